// The admin unix socket (in.mpathd listened on TCP 5999 for if_mpadm; ipmpd
// uses a 0600 unix socket): offline/online, reload, status, and a stream of
// probe results for `ipmpd stat -p`. Beside it, the read-only status socket
// (world-connectable by default, as ipmpstat needs no privilege) answers
// status and the probe stream only.

import { chmodSync, chownSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import {
  LineSplitter,
  MAX_REQUEST_BYTES,
  parseRequest,
  toLine,
  type AdminRequest,
  type AdminResponse,
} from './protocol.js';
import { AdminSocketError, clearStaleSocket, errnoText, makeSocketDirectory } from './socketFile.js';

export interface AdminHandlers {
  handle(request: Exclude<AdminRequest, { op: 'watch_probes' }>): Promise<AdminResponse> | AdminResponse;
  /** Subscribe to probe results; returns an unsubscribe function. */
  watchProbes(send: (line: unknown) => void): () => void;
}

/** A bound admin socket; it answers requests once serve() has its handlers. */
export interface AdminSocket {
  readonly server: Server;
  serve(handlers: AdminHandlers): void;
  /** What serve() was given (the status socket answers with the same handlers). */
  handlers(): AdminHandlers | undefined;
}

const IDLE_TIMEOUT_MS = 30_000;

/** What the read-only status socket answers; everything else changes state. */
const READ_ONLY_OPS: ReadonlySet<AdminRequest['op']> = new Set(['status', 'watch_probes']);

export interface StatusSocketOptions {
  /** Permission bits; 0666 (anyone may connect) by default. */
  mode?: number;
  /** Group to own the socket (with a mode such as 0660). */
  gid?: number;
}

/**
 * Binds the admin socket, before the daemon touches the host: a path it cannot
 * use, or one a running ipmpd answers on, is an AdminSocketError and nothing
 * has changed yet.
 */
export async function bindAdminSocket(path: string): Promise<AdminSocket> {
  let handlers: AdminHandlers | undefined;
  const server = await bindSocket(path, 'admin_socket', { mode: 0o600 }, (socket) => serve(socket, () => handlers));
  return {
    server,
    serve: (h) => {
      handlers = h;
    },
    handlers: () => handlers,
  };
}

/**
 * Binds the read-only status socket: it answers with the admin socket's
 * handlers, status and the probe stream only, and closes with it.
 */
export async function bindStatusSocket(
  path: string,
  admin: AdminSocket,
  options: StatusSocketOptions = {},
): Promise<Server> {
  const server = await bindSocket(
    path,
    '--status.socket',
    { mode: options.mode ?? 0o666, ...(options.gid !== undefined ? { gid: options.gid } : {}) },
    (socket) => serve(socket, admin.handlers, path),
  );
  admin.server.once('close', () => server.close());
  return server;
}

async function bindSocket(
  path: string,
  setting: string,
  access: { mode: number; gid?: number },
  onConnection: (socket: Socket) => void,
): Promise<Server> {
  makeSocketDirectory(path, setting);
  await clearStaleSocket(path, setting);
  const server = createServer(onConnection);
  server.maxConnections = 32;
  const old = process.umask(0o177); // created 0600, with no window where it is wider
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new AdminSocketError(path, `cannot listen: ${errnoText(err)}`, setting);
  } finally {
    process.umask(old);
  }
  server.on('close', () => rmSync(path, { force: true }));
  const mode = `0${access.mode.toString(8)}`;
  try {
    // the group first, then the wider mode: never open to the wrong group
    if (access.gid !== undefined) chownSync(path, -1, access.gid);
    chmodSync(path, access.mode);
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new AdminSocketError(
      path,
      access.gid !== undefined
        ? `cannot give it group ${access.gid} and mode ${mode}: ${errnoText(err)}`
        : `cannot make it ${mode}: ${errnoText(err)}`,
      setting,
    );
  }
  return server;
}

export async function startAdminServer(path: string, handlers: AdminHandlers): Promise<Server> {
  const socket = await bindAdminSocket(path);
  socket.serve(handlers);
  return socket.server;
}

/** `readOnlyPath`: this is the status socket at that path; only READ_ONLY_OPS are answered. */
function serve(socket: Socket, current: () => AdminHandlers | undefined, readOnlyPath?: string): void {
  const lines = new LineSplitter();
  let unsubscribe: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.setTimeout(IDLE_TIMEOUT_MS, () => {
    if (!unsubscribe) socket.end();
  });
  const reply = (r: AdminResponse | unknown) => {
    if (!socket.destroyed) socket.write(toLine(r));
  };
  socket.on('data', (chunk: string) => {
    const complete = lines.push(chunk);
    if (complete.length === 0 && lines.pendingLength > MAX_REQUEST_BYTES) {
      reply({ ok: false, error: `request larger than ${MAX_REQUEST_BYTES} bytes refused` });
      socket.end();
      socket.destroy();
      return;
    }
    for (const line of complete) {
      if (line.length > MAX_REQUEST_BYTES) {
        reply({ ok: false, error: `request larger than ${MAX_REQUEST_BYTES} bytes refused` });
        continue;
      }
      const parsed = parseRequest(line);
      if (!parsed.ok) {
        reply({ ok: false, error: parsed.error });
        continue;
      }
      const req = parsed.request;
      if (readOnlyPath !== undefined && !READ_ONLY_OPS.has(req.op)) {
        reply({
          ok: false,
          error: `${req.op} refused: ${readOnlyPath} is the read-only status socket (status and the probe stream only); ${req.op} goes through the admin socket, as root`,
        });
        continue;
      }
      const handlers = current();
      if (!handlers) {
        reply({ ok: false, error: 'ipmpd is starting' });
        continue;
      }
      if (req.op === 'watch_probes') {
        unsubscribe ??= handlers.watchProbes((line) => reply(line));
        reply({ ok: true, result: 'watching' });
        continue;
      }
      Promise.resolve(handlers.handle(req)).then(reply, (err: Error) => reply({ ok: false, error: err.message }));
    }
  });
  socket.on('close', () => unsubscribe?.());
  socket.on('error', () => unsubscribe?.());
}
