// Thin wrappers around child_process for the lab: run a command (optionally feeding stdin),
// batch iproute2 and nftables commands so a whole namespace is configured by one process.
import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  /** exit code; -1 when the process was killed by a signal (see `signal`). */
  code: number;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** Resolve with the result instead of rejecting when the exit code is not 0. */
  allowFail?: boolean;
  /** Shown in error messages, e.g. 'host "router" setup'. */
  what?: string;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
    readonly argv: string[],
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Runs argv[0] with the remaining arguments; never goes through a shell. */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run: empty command');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs)
        : undefined;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    // A command that exits before reading its stdin would otherwise raise EPIPE here.
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`${opts.what ?? argv.join(' ')}: cannot start ${file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result: RunResult = {
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        code: code ?? -1,
        signal,
        timedOut,
      };
      if (result.code === 0 || opts.allowFail) return resolve(result);
      const why = timedOut
        ? `timed out after ${opts.timeoutMs} ms`
        : signal
          ? `killed by ${signal}`
          : `exit code ${result.code}`;
      const detail = (result.stderr.trim() || result.stdout.trim()).slice(0, 2000);
      reject(
        new CommandError(
          `${opts.what ?? 'command'} failed (${why}): ${argv.join(' ')}${detail ? `\n${detail}` : ''}`,
          result,
          argv,
        ),
      );
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Runs several `ip` commands in one process (`ip [-n NS] -batch -`). ip stops at the first
 * failing line and names it, which we pass on together with the script.
 */
export async function ipBatch(ns: string | undefined, lines: string[], what: string): Promise<void> {
  if (lines.length === 0) return;
  const argv = ns ? ['ip', '-n', ns, '-batch', '-'] : ['ip', '-batch', '-'];
  try {
    await run(argv, { input: lines.join('\n') + '\n', what, timeoutMs: 10_000 });
  } catch (e) {
    if (e instanceof CommandError) {
      const numbered = lines.map((l, i) => `  ${i + 1}: ${l}`).join('\n');
      throw new Error(`${e.message}\nbatch was:\n${numbered}`);
    }
    throw e;
  }
}

/** Loads an nftables script inside a namespace (atomic: all or nothing). */
export async function nftScript(ns: string, script: string, what: string): Promise<void> {
  await run(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], { input: script, what, timeoutMs: 10_000 });
}

/** `ip -j ...` inside a namespace, parsed. */
export async function ipJson<T>(ns: string, args: string[], what: string): Promise<T> {
  const r = await run(['ip', '-n', ns, '-j', ...args], { what, timeoutMs: 10_000 });
  const text = r.stdout.trim();
  if (text === '') return [] as unknown as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${what}: cannot parse output of ip -n ${ns} -j ${args.join(' ')}: ${text.slice(0, 200)}`);
  }
}
