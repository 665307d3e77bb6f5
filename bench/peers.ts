// ipmpd against the tools its users would otherwise run, side by side in one
// run and one lab: the same targets, from the same namespace, at the same
// probe rate, one tool at a time.
//
//   npm run bench -- probe-cost [--fdt 100ms] [--window 30] [--warmup 30] [--rounds 3]
//   npm run bench -- rtt-accuracy [--window 60]

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../test/lab/lab.js';
import { twoNicGroup } from '../test/lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from '../test/scenarios/ipmpd.js';
import { cpuNs, ensureDebianPackages, sleep } from './proc.js';
import { summary, table } from './stats.js';

const TARGETS = ['198.18.11.21', '198.18.11.22', '198.18.11.1'];
const SCRAPER = fileURLToPath(new URL('./scraper.js', import.meta.url));
const BLACKBOX_PORT = 9115;

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

/** ipmpd probing TARGETS from both NICs (static targets, so every tool sees the same ones). */
function ipmpdYaml(fdt: string, targets = TARGETS): string {
  return twoNicYaml({ fdt, targets });
}

async function probesSent(ipmpd: IpmpdProcess): Promise<number> {
  const { body } = await ipmpd.http('/metrics');
  let total = 0;
  for (const m of body.matchAll(/^ipmp_probe_requests_total\{[^}]*\} (\S+)$/gm)) total += Number(m[1]);
  return total;
}

/** Next line a child writes to stdout, parsed as JSON. */
function nextJsonLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as T);
      } catch (err) {
        reject(err as Error);
      }
    };
    child.stdout!.on('data', onData);
  });
}

interface Cost {
  probes: number;
  cpuMs: number;
}

async function measureIpmpd(lab: Lab, fdt: string, windowS: number, warmupS: number): Promise<Cost> {
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', ipmpdYaml(fdt), { logLevel: 'info' });
  try {
    await ipmpd.waitFor('start', (l) => l.event === 'started', 15_000);
    // a daemon's steady state: V8 keeps optimizing hot functions for the first ~30 s at
    // this call rate (measured: a 5 s warm-up read up to 50 % higher, compiler threads included)
    await sleep(warmupS * 1000);
    const [p0, c0] = [await probesSent(ipmpd), cpuNs(ipmpd.child.pid!)];
    await sleep(windowS * 1000);
    const c1 = cpuNs(ipmpd.child.pid!);
    const p1 = await probesSent(ipmpd);
    return { probes: p1 - p0, cpuMs: (c1 - c0) / 1e6 };
  } finally {
    await ipmpd.stop();
  }
}

async function measureFping(lab: Lab, rate: number, windowS: number): Promise<Cost> {
  // -l: loop forever; -p: per-target period, so TARGETS.length / p probes per second in all
  const periodMs = Math.max(1, Math.round((1000 * TARGETS.length) / rate));
  // -Q: quiet (no line per probe, which -q alone does not stop in loop mode), summary on exit
  // -i 1: fping's default 10 ms between any two pings would cap 3 targets at 100/s
  const fping = lab.spawn('ipmp', ['fping', '-Q', '3600', '-l', '-i', '1', '-p', String(periodMs), ...TARGETS]);
  fping.stdout!.resume();
  let stderr = '';
  fping.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  // fping's whole life is measured: it starts in well under a millisecond of CPU
  await sleep(windowS * 1000);
  const cpu = cpuNs(fping.pid!);
  await lab.stopProcess(fping, 'SIGINT');
  const sent = [...stderr.matchAll(/xmt\/rcv\/%loss = (\d+)\//g)].reduce((n, m) => n + Number(m[1]), 0);
  if (sent === 0) throw new Error(`fping sent nothing:\n${stderr}`);
  return { probes: sent, cpuMs: cpu / 1e6 };
}

async function measureBlackbox(lab: Lab, rate: number, windowS: number, warmupS: number, dir: string): Promise<Cost> {
  const config = join(dir, 'blackbox.yml');
  writeFileSync(
    config,
    'modules:\n  icmp:\n    prober: icmp\n    timeout: 2s\n    icmp:\n      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n',
  );
  const exporter = lab.spawn('ipmp', [
    'prometheus-blackbox-exporter',
    `--config.file=${config}`,
    `--web.listen-address=127.0.0.1:${BLACKBOX_PORT}`,
    '--log.level=warn',
  ]);
  try {
    await lab.exec('ipmp', [
      'curl',
      '-s',
      '--retry',
      '30',
      '--retry-connrefused',
      '--retry-delay',
      '0',
      '-o',
      '/dev/null',
      `http://127.0.0.1:${BLACKBOX_PORT}/-/healthy`,
    ]);
    const scraper = lab.spawn('ipmp', ['node', SCRAPER, `http://127.0.0.1:${BLACKBOX_PORT}`, String(rate), ...TARGETS]);
    try {
      await sleep(warmupS * 1000); // the same warm-up as ipmpd's: connections open, Go runtime settled
      const n0 = nextJsonLine<{ ok: number }>(scraper);
      scraper.kill('SIGUSR1');
      const c0 = cpuNs(exporter.pid!);
      const ok0 = (await n0).ok;
      await sleep(windowS * 1000);
      const n1 = nextJsonLine<{ ok: number; failed: number }>(scraper);
      scraper.kill('SIGUSR1');
      const c1 = cpuNs(exporter.pid!);
      const end = await n1;
      if (end.failed > 0) process.stderr.write(`blackbox: ${end.failed} probes failed\n`);
      return { probes: end.ok - ok0, cpuMs: (c1 - c0) / 1e6 };
    } finally {
      await lab.stopProcess(scraper);
    }
  } finally {
    await lab.stopProcess(exporter);
  }
}

export async function probeCostBench(args: string[]): Promise<string> {
  const fdt = option(args, '--fdt', '100ms');
  const windowS = Number(option(args, '--window', '30'));
  const warmupS = Number(option(args, '--warmup', '30'));
  const rounds = Number(option(args, '--rounds', '3'));
  ensureDebianPackages({ fping: 'fping', 'prometheus-blackbox-exporter': 'prometheus-blackbox-exporter' });
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-bench-'));
  const lab = await Lab.create(twoNicGroup());
  const per1000 = { ipmpd: [] as number[], fping: [] as number[], blackbox: [] as number[] };
  const ratios = { fping: [] as number[], blackbox: [] as number[] };
  let rate = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      // ipmpd first: its probe rate sets the others', and it leaves the data address (and so a route) behind
      const ipmpd = await measureIpmpd(lab, fdt, windowS, warmupS);
      rate = ipmpd.probes / windowS;
      const fping = await measureFping(lab, rate, windowS);
      const blackbox = await measureBlackbox(lab, rate, windowS, warmupS, dir);
      const cost = (c: Cost) => (c.cpuMs / 1000 / c.probes) * 1000;
      per1000.ipmpd.push(cost(ipmpd));
      per1000.fping.push(cost(fping));
      per1000.blackbox.push(cost(blackbox));
      ratios.fping.push(cost(ipmpd) / cost(fping));
      ratios.blackbox.push(cost(ipmpd) / cost(blackbox));
      process.stderr.write(
        `round ${r + 1}: ${rate.toFixed(0)} probes/s; CPU s per 1000 probes: ipmpd ${cost(ipmpd).toFixed(4)} (${ipmpd.probes}), fping ${cost(fping).toFixed(4)} (${fping.probes}), blackbox ${cost(blackbox).toFixed(4)} (${blackbox.probes})\n`,
      );
    }
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (xs: number[]) => summary(xs).p50;
  const rows = (['ipmpd', 'fping', 'blackbox'] as const).map((tool) => ({
    tool,
    'CPU s / 1000 probes (median)': med(per1000[tool]).toFixed(4),
    min: summary(per1000[tool]).min.toFixed(4),
    max: summary(per1000[tool]).max.toFixed(4),
    'ipmpd ÷ tool (median of rounds)': tool === 'ipmpd' ? '1' : med(ratios[tool]).toFixed(2),
  }));
  return `${table(rows)}\n\n(${rounds} rounds of ${windowS} s each tool, ${rate.toFixed(0)} probes/s to ${TARGETS.length} targets, ipmpd FDT ${fdt} on 2 NICs; CPU from /proc/<pid>/task/*/schedstat)\n`;
}

export async function rttAccuracyBench(args: string[]): Promise<string> {
  const windowS = Number(option(args, '--window', '60'));
  const lab = await Lab.create(twoNicGroup());
  const target = TARGETS[0]!;
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', ipmpdYaml('1s', [target]), { logLevel: 'debug' });
  try {
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await sleep(3000);
    const from = Date.now();
    // iputils ping on the same path (eth0 to the target) at the same time
    const ping = await lab.exec('ipmp', ['ping', '-n', '-I', 'eth0', '-i', '0.05', '-w', String(windowS), target], {
      timeoutMs: (windowS + 10) * 1000,
    });
    const to = Date.now();
    const pingMs = [...ping.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    const ipmpdMs = ipmpd.lines
      .filter(
        (l) => l.event === 'probe_acked' && l.ifname === 'eth0' && l.target === target && l.at >= from && l.at <= to,
      )
      .map((l) => l.rttMs as number);
    const p = summary(pingMs);
    const i = summary(ipmpdMs);
    const us = (ms: number) => Math.round(ms * 1000);
    const rows = [
      {
        tool: 'iputils ping',
        samples: p.n,
        'min µs': us(p.min),
        'p50 µs': us(p.p50),
        'p99 µs': us(p.p99),
        'max µs': us(p.max),
      },
      {
        tool: 'ipmpd',
        samples: i.n,
        'min µs': us(i.min),
        'p50 µs': us(i.p50),
        'p99 µs': us(i.p99),
        'max µs': us(i.max),
      },
    ];
    return `${table(rows)}\n\nmedian difference ipmpd − ping: ${us(i.p50 - p.p50)} µs (${windowS} s, eth0 → ${target}, ping every 50 ms, ipmpd FDT 1 s)\n`;
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
}
