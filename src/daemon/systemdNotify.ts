// systemd's notify protocol (Type=notify, WatchdogSec=): READY=1 once every
// group has a first verdict, WATCHDOG=1 from a timer on the event loop (so a
// hung loop stops the pings and systemd restarts ipmpd), STOPPING=1 on the way
// out. The datagram goes out through native/sdnotify.c; without
// $NOTIFY_SOCKET (not under systemd) everything here does nothing.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';

/** Sends one notify message; returns 0 or the errno. */
export type NotifySend = (socketPath: string, message: string) => number;

export interface NotifyEnv {
  NOTIFY_SOCKET?: string | undefined;
  WATCHDOG_USEC?: string | undefined;
  WATCHDOG_PID?: string | undefined;
}

/**
 * The ping interval systemd asks for: half of WATCHDOG_USEC (as sd_watchdog_enabled
 * advises), or undefined when no watchdog is set or it is meant for another process.
 */
export function watchdogIntervalMs(env: NotifyEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export class SystemdNotifier {
  private watchdog: NodeJS.Timeout | undefined;
  private readyPoll: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(
    private readonly socketPath: string | undefined,
    private readonly pingEveryMs: number | undefined,
    private readonly send: NotifySend,
    private readonly warn: (message: string) => void,
  ) {}

  get active(): boolean {
    return this.socketPath !== undefined;
  }

  notify(message: string): void {
    if (!this.socketPath) return;
    const errno = this.send(this.socketPath, message);
    // one warning, not one per ping: a gone socket is a misconfiguration, not news every second
    if (errno !== 0 && !this.warned) {
      this.warned = true;
      this.warn(
        `systemd notify on ${this.socketPath} failed: ${getSystemErrorMap().get(-errno)?.[0] ?? `errno ${errno}`} (message ${message.split('\n')[0]})`,
      );
    }
  }

  /** Start pinging the watchdog and send READY=1 (with a STATUS line) once `ready()` is first true. */
  start(ready: () => boolean, status: () => string, pollMs = 100): void {
    if (!this.socketPath) return;
    if (this.pingEveryMs !== undefined) {
      this.watchdog = setInterval(() => this.notify('WATCHDOG=1'), this.pingEveryMs);
      this.watchdog.unref();
    }
    const check = () => {
      if (!ready()) return;
      clearInterval(this.readyPoll);
      this.readyPoll = undefined;
      this.notify(`READY=1\nSTATUS=${status()}`);
    };
    this.readyPoll = setInterval(check, pollMs);
    this.readyPoll.unref();
    check();
  }

  stopping(): void {
    clearInterval(this.watchdog);
    clearInterval(this.readyPoll);
    this.notify('STOPPING=1');
  }
}

let addon: { send: NotifySend } | null | undefined;

function nativeSend(): NotifySend | undefined {
  if (addon === undefined) {
    const root = join(dirname(fileURLToPath(import.meta.url)), '../../..'); // dist/src/daemon -> repo root
    try {
      addon = createRequire(import.meta.url)(join(root, 'build/Release/sdnotify.node')) as { send: NotifySend };
    } catch {
      addon = null;
    }
  }
  return addon?.send;
}

/** The notifier for this process's environment (a no-op one outside systemd). */
export function systemdNotifier(warn: (message: string) => void, env: NotifyEnv = process.env): SystemdNotifier {
  const socketPath = env.NOTIFY_SOCKET || undefined;
  const send = nativeSend();
  if (socketPath && !send)
    warn('NOTIFY_SOCKET is set but the sdnotify addon is not built (npm ci builds it): systemd will not hear READY=1');
  return new SystemdNotifier(
    send ? socketPath : undefined,
    watchdogIntervalMs(env, process.pid),
    send ?? (() => 0),
    warn,
  );
}
