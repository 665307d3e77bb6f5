// Measures a client's view of an outage: iputils ping with -D (receive timestamp on every
// reply line) and -O (report unanswered requests) runs in the client namespace at a fixed
// interval; replies are parsed as they arrive (ping flushes every line) so a test can also
// wait for recovery while the pinger runs.
//
// Note: when replies stop, iputils backs off and sends less often than -i asks (about every
// 10 ms at -i 0.001), so a recovery is seen up to that much late. Measured gaps are therefore
// slightly longer than the true outage, never shorter.
import type { ChildProcess } from 'node:child_process';
import type { Lab } from './lab.js';

export interface PingerResult {
  /** epoch ms (same clock as Date.now()) of each reply, in order; duplicates excluded */
  replies: number[];
  /** replies marked DUP! (e.g. two hosts answering for one address) */
  duplicates: number;
  /** requests ping reported as unanswered when the next one left (-O) */
  unanswered: number;
  /** longest time between consecutive replies; with < 2 replies, the whole run */
  longestGapMs: number;
  longestGapStart: number | undefined;
  longestGapEnd: number | undefined;
  /** time from the last reply (or the start) to stop() */
  tailGapMs: number;
  startedAt: number;
  stoppedAt: number;
  /** ping's exit code (null if killed) and stderr, for diagnosing a run without replies */
  exitCode: number | null;
  stderr: string;
  /** first reply strictly after instantMs (epoch ms), or undefined */
  firstReplyAfter(instantMs: number): number | undefined;
}

export interface Pinger {
  readonly target: string;
  /** replies so far (epoch ms) */
  replies(): readonly number[];
  /** Resolves with the first reply after instantMs; rejects after timeoutMs. */
  waitForReply(instantMs: number, timeoutMs: number): Promise<number>;
  stop(): Promise<PingerResult>;
}

export interface PingerOptions {
  /** bind to an interface (ping -I) */
  dev?: string;
}

const REPLY = /^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=\d+/;
const NO_ANSWER = /^\[\d+\.\d+\] no answer yet/;

export function startPinger(
  lab: Lab,
  host: string,
  target: string,
  intervalMs: number,
  opts: PingerOptions = {},
): Pinger {
  if (!Number.isFinite(intervalMs) || intervalMs < 1) {
    throw new Error(`startPinger: intervalMs must be >= 1 (iputils' resolution), got ${intervalMs}`);
  }
  const argv = ['ping', '-n', '-D', '-O', '-i', (intervalMs / 1000).toFixed(3)];
  if (opts.dev) argv.push('-I', opts.dev);
  argv.push(target);

  const startedAt = Date.now();
  const child: ChildProcess = lab.spawn(host, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const replies: number[] = [];
  let duplicates = 0;
  let unanswered = 0;
  let stderr = '';
  let pending = '';
  const waiters = new Set<{ after: number; resolve: (t: number) => void }>();

  const onLine = (line: string): void => {
    if (NO_ANSWER.test(line)) {
      unanswered++;
      return;
    }
    const m = REPLY.exec(line);
    if (!m) return;
    if (line.includes('DUP!')) {
      duplicates++;
      return;
    }
    const t = Number(m[1]) * 1000;
    replies.push(t);
    for (const w of waiters) {
      if (t > w.after) {
        waiters.delete(w);
        w.resolve(t);
      }
    }
  };
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (stderr.length < 4000) stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  let result: Promise<PingerResult> | undefined;

  return {
    target,
    replies: () => replies,
    waitForReply(instantMs, timeoutMs) {
      const seen = replies.find((t) => t > instantMs);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          after: instantMs,
          resolve: (t: number) => {
            clearTimeout(timer);
            resolve(t);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `pinger ${host} -> ${target}: no reply after ${new Date(instantMs).toISOString()} within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    stop() {
      result ??= (async () => {
        // SIGINT lets ping flush its last lines; stopProcess falls back to SIGKILL.
        const exitCode = await lab.stopProcess(child, 'SIGINT', 2000);
        await exited;
        if (pending) onLine(pending);
        const stoppedAt = Date.now();
        return summarize(replies, { duplicates, unanswered, startedAt, stoppedAt, exitCode, stderr: stderr.trim() });
      })();
      return result;
    },
  };
}

function summarize(
  replies: number[],
  run: {
    duplicates: number;
    unanswered: number;
    startedAt: number;
    stoppedAt: number;
    exitCode: number | null;
    stderr: string;
  },
): PingerResult {
  let longestGapMs = run.stoppedAt - run.startedAt;
  let longestGapStart: number | undefined;
  let longestGapEnd: number | undefined;
  if (replies.length >= 2) {
    longestGapMs = 0;
    for (let i = 1; i < replies.length; i++) {
      const gap = replies[i]! - replies[i - 1]!;
      if (gap > longestGapMs) {
        longestGapMs = gap;
        longestGapStart = replies[i - 1];
        longestGapEnd = replies[i];
      }
    }
  }
  const last = replies.at(-1) ?? run.startedAt;
  return {
    replies: [...replies],
    ...run,
    longestGapMs,
    longestGapStart,
    longestGapEnd,
    tailGapMs: Math.max(0, run.stoppedAt - last),
    firstReplyAfter: (instantMs) => replies.find((t) => t > instantMs),
  };
}
