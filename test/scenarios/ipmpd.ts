// Running the real `ipmpd run` inside a lab host, and reading what it does:
// its log lines (JSON) and its HTTP endpoints.

import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../lab/lab.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface LogLine {
  at: number; // Date.now() when read
  level: string;
  event?: string;
  msg?: string;
  [k: string]: unknown;
}

/**
 * Node flags ipmpd runs with wherever it is installed (systemd unit, Debian wrapper,
 * Dockerfile: test/unit/deploy.test.ts checks), so the lab tests and benches run it so too.
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=4'];

export class IpmpdProcess {
  readonly lines: LogLine[] = [];
  private waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  readonly dir: string;

  private constructor(
    readonly lab: Lab,
    readonly host: string,
    readonly child: ChildProcess,
    dir: string,
    readonly port: number,
  ) {
    this.dir = dir;
    let buf = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let line: LogLine;
        try {
          line = { ...(JSON.parse(text) as object), at: Date.now() } as LogLine;
        } catch {
          line = { at: Date.now(), level: 'raw', msg: text };
        }
        this.lines.push(line);
        if (process.env.IPMPD_TEST_LOG) process.stderr.write(`[ipmpd ${host}] ${text}\n`);
        this.waiters = this.waiters.filter((w) => (w.pred(line) ? (w.resolve(line), false) : true));
      }
    });
  }

  /**
   * Start ipmpd in `host` with this YAML config. Its config and admin socket
   * live in `dir` (a fresh temp dir by default), which stop() removes; a restart
   * on the same `dir` after a stop makes it again.
   */
  static start(
    lab: Lab,
    host: string,
    yaml: string,
    opts: {
      port?: number;
      dir?: string;
      logLevel?: string;
      args?: string[];
      env?: NodeJS.ProcessEnv;
      launcher?: string[];
    } = {},
  ): IpmpdProcess {
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ipmpd-test-'));
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'ipmpd.yaml');
    writeFileSync(config, `admin_socket: ${join(dir, 'admin.sock')}\n${yaml}`);
    const port = opts.port ?? 9740;
    const child = lab.spawn(
      host,
      [
        ...(opts.launcher ?? []),
        ...(process.env.IPMPD_TEST_NODE_ARGS
          ? process.env.IPMPD_TEST_NODE_ARGS.split(' ')
          : ['node', ...DAEMON_NODE_FLAGS]),
        MAIN,
        'run',
        '--config.file',
        config,
        '--log.format',
        'json',
        '--log.level',
        opts.logLevel ?? 'debug',
        '--web.listen-address',
        `127.0.0.1:${port}`,
        ...(opts.args ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) },
    );
    return new IpmpdProcess(lab, host, child, dir, port);
  }

  get adminSocket(): string {
    return join(this.dir, 'admin.sock');
  }

  /** `ipmpd stat ARGS` against this daemon, from inside its namespace: what it prints. */
  async stat(args: string[]): Promise<string> {
    return (await this.lab.exec(this.host, ['node', MAIN, 'stat', ...args, '--admin.socket', this.adminSocket])).stdout;
  }

  /** The first log line (already seen or future) matching, or a timeout error naming what was awaited. */
  waitFor(what: string, pred: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${this.lines
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join('\n')}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  events(event: string): LogLine[] {
    return this.lines.filter((l) => l.event === event);
  }

  /** GET a path from the daemon's HTTP port, from inside its namespace. */
  async http(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
    const r = await this.lab.exec(
      this.host,
      ['curl', '-s', '-X', method, '-o', '-', '-w', '\n%{http_code}', `http://127.0.0.1:${this.port}${path}`],
      { allowFail: true },
    );
    const nl = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl) };
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    try {
      await this.lab.stopProcess(this.child, signal);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** The config for the seed-A lab plan. */
export function twoNicYaml(
  opts: { fdt?: string; failback?: boolean; data6?: string; extra?: string; targets?: string[] } = {},
): string {
  return `failure_detection_time: ${opts.fdt ?? '1s'}
failback: ${opts.failback ?? true}
fix_sysctls: true
${opts.extra ?? ''}
groups:
  - name: unrealgrp1
    interfaces:
      - name: eth0
        test_address: 198.18.11.6/24
      - name: eth1
        test_address: 198.18.11.7/24
    data_addresses:
      - address: 198.18.11.5/24
        preferred_interface: eth0
${opts.data6 ? `      - address: ${opts.data6}\n        preferred_interface: eth0\n` : ''}${opts.targets ? `    probe_targets: [${opts.targets.join(', ')}]\n` : ''}`;
}

/** The seed lab's group probing with ARP (probe_method: arp): no test addresses. */
export function arpYaml(fdt = '1s'): string {
  return `failure_detection_time: ${fdt}
failback: true
fix_sysctls: true
groups:
  - name: unrealgrp1
    probe_method: arp
    interfaces:
      - name: eth0
      - name: eth1
    data_addresses:
      - address: 198.18.11.5/24
        preferred_interface: eth0
`;
}
