// Last-resort teardown: labs that are still alive when the process exits, is interrupted or
// crashes are removed synchronously (async work cannot run in an 'exit' handler), and
// namespaces left behind by dead processes are swept on the next Lab.create().
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { run } from './run.js';

/** What a live lab must be able to do synchronously when the process is going away. */
export interface SyncTeardown {
  teardownSync(): void;
}

const live = new Set<SyncTeardown>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function teardownAll(): void {
  for (const lab of [...live]) {
    try {
      lab.teardownSync();
    } catch {
      // keep going: the other labs still deserve their cleanup
    }
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  teardownAll();
  uninstall();
  // Our listener replaced Node's default "terminate on signal". If nobody else handles the
  // signal, re-raise it so the process still dies with the conventional status (128 + n).
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

const onExit = (): void => teardownAll();
// The Monitor variant observes crashes without swallowing them (a plain 'uncaughtException'
// listener would keep the process alive). Unhandled rejections also arrive here.
const onCrash = (): void => teardownAll();

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onCrash);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  process.off('uncaughtExceptionMonitor', onCrash);
  for (const s of SIGNALS) process.off(s, onSignal);
}

export function registerLive(lab: SyncTeardown): void {
  live.add(lab);
  install();
}

export function unregisterLive(lab: SyncTeardown): void {
  live.delete(lab);
  // Do not leave signal handlers behind once no lab needs them: they change how the process dies.
  if (live.size === 0) uninstall();
}

/** Deletes namespaces synchronously; missing ones are ignored (`-force` keeps the batch going). */
export function deleteNamespacesSync(names: string[]): void {
  if (names.length === 0) return;
  try {
    execFileSync('ip', ['-force', '-batch', '-'], {
      input: names.map((n) => `netns del ${n}`).join('\n') + '\n',
      stdio: ['pipe', 'ignore', 'ignore'],
      timeout: 10_000,
    });
  } catch {
    // ip exits non-zero if any line failed (e.g. already gone); the others were still run.
  }
}

export async function deleteNamespaces(names: string[]): Promise<void> {
  if (names.length === 0) return;
  await run(['ip', '-force', '-batch', '-'], {
    input: names.map((n) => `netns del ${n}`).join('\n') + '\n',
    allowFail: true,
    timeoutMs: 10_000,
  });
}

export function listNamespaces(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return []; // no namespace was ever named on this machine
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes `<prefix>-<pid>-...` namespaces whose pid is no longer running (a run that was
 * SIGKILLed cannot clean up after itself). Returns the names it deleted.
 */
export async function sweepStale(prefix = 'ipmpd'): Promise<string[]> {
  const pattern = new RegExp(`^${escapeRegExp(prefix)}-(\\d+)-`);
  const stale = listNamespaces().filter((name) => {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid);
  });
  await deleteNamespaces(stale);
  return stale;
}
