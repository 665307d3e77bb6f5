// Getting the admin socket's path ready before anything else happens: its
// directory made, a stale socket from a crashed run cleared, and a running
// ipmpd on the same path left alone. Every failure is an AdminSocketError
// naming the option, the path and the errno, so `ipmpd run` can stop before it
// has touched the host.

import { lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { getSystemErrorMap } from 'node:util';

export class AdminSocketError extends Error {
  constructor(
    readonly path: string,
    detail: string,
    /** the setting that named the path: admin_socket, or --status.socket */
    setting = 'admin_socket',
  ) {
    super(`${setting} ${path}: ${detail}`);
    this.name = 'AdminSocketError';
  }
}

/** "ENOENT (no such file or directory)" from a Node system error. */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e?.code) return String((err as Error)?.message ?? err);
  const description = typeof e.errno === 'number' ? getSystemErrorMap().get(e.errno)?.[1] : undefined;
  return description ? `${e.code} (${description})` : e.code;
}

/**
 * Creates the socket's missing directories one level at a time, 0755: the
 * admin socket guards itself (0600), and the read-only status socket beside it
 * must be reachable by every user. Not
 * mkdirSync({ recursive: true }): Node 20's loops forever, in synchronous code
 * that no signal can interrupt, when mkdir answers ENOENT under a parent that
 * exists, as it does everywhere under /proc.
 */
export function makeSocketDirectory(path: string, setting = 'admin_socket'): void {
  const missing: string[] = [];
  for (let dir = dirname(path); ;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(dir).isDirectory(); // through symlinks: /var/run -> /run
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new AdminSocketError(path, `cannot use directory ${dir}: ${errnoText(err)}`, setting);
      missing.push(dir);
      const parent = dirname(dir);
      if (parent === dir) throw new AdminSocketError(path, `cannot use directory ${dir}: ${errnoText(err)}`, setting);
      dir = parent;
      continue;
    }
    if (!isDirectory) throw new AdminSocketError(path, `${dir} is not a directory (ENOTDIR)`, setting);
    break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode: 0o755 });
    } catch (err) {
      // another process made it between our look and our mkdir: fine if it is a directory
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && isDirectory(dir)) continue;
      throw new AdminSocketError(path, `cannot create directory ${dir}: ${errnoText(err)}`, setting);
    }
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** What answers on a unix socket path. */
function probeSocket(path: string, timeoutMs = 1000): Promise<'answers' | 'refused' | 'absent'> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      // a listener too busy to accept within a second is still a listener
      resolve('answers');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('answers');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED') resolve('refused');
      else if (err.code === 'ENOENT') resolve('absent');
      else reject(err);
    });
  });
}

/**
 * Clears the way for listening on `path`: a socket nothing listens on (left
 * by a crash or kill -9) is removed; a socket that answers belongs to a
 * running ipmpd and is refused; anything that is not a socket is never deleted.
 */
export async function clearStaleSocket(path: string, setting = 'admin_socket'): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new AdminSocketError(path, `cannot inspect it: ${errnoText(err)}`, setting);
  }
  if (!isSocket) throw new AdminSocketError(path, 'exists and is not a socket; not replacing it (EEXIST)', setting);
  let state: Awaited<ReturnType<typeof probeSocket>>;
  try {
    state = await probeSocket(path);
  } catch (err) {
    throw new AdminSocketError(path, `cannot tell whether another ipmpd listens on it: ${errnoText(err)}`, setting);
  }
  if (state === 'answers') throw new AdminSocketError(path, `another ipmpd is running on ${path}`, setting);
  if (state === 'absent') return;
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new AdminSocketError(path, `cannot remove the stale socket: ${errnoText(err)}`, setting);
  }
}
