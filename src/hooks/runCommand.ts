// Runs one hook command: argv without a shell, the event on stdin, in its own
// process group so that a timeout kills whatever it started too.

import { spawn } from 'node:child_process';

export type RunResult = 'ok' | 'failed' | 'timeout';

export interface RunOutcome {
  result: RunResult;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The first lines of its stderr (bounded). */
  stderr: string[];
  durationMs: number;
  /** Why it could not start (ENOENT, EACCES). */
  error?: string;
}

const STDERR_BYTES = 4096;
const STDERR_LINES = 5;

export function runCommand(
  command: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin: string,
  timeoutMs: number,
): Promise<RunOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let stderr = '';
    let timedOut = false;
    let done = false;
    const child = spawn(command[0]!, command.slice(1), { env, stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    const finish = (o: Omit<RunOutcome, 'stderr' | 'durationMs'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // a grandchild may hold stderr open: the hook is done when its own process is
      child.stderr?.destroy();
      const lines = stderr
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(0, STDERR_LINES);
      resolve({ ...o, stderr: lines, durationMs: performance.now() - started });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < STDERR_BYTES) stderr += chunk.slice(0, STDERR_BYTES - stderr.length);
    });
    child.stdin?.on('error', () => undefined); // a hook that does not read its stdin may exit first (EPIPE)
    child.stdin?.end(stdin);
    child.on('error', (err) => finish({ result: 'failed', exitCode: null, signal: null, error: err.message }));
    child.on('exit', (code, signal) => {
      if (timedOut) return finish({ result: 'timeout', exitCode: code, signal });
      finish({ result: code === 0 ? 'ok' : 'failed', exitCode: code, signal });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
