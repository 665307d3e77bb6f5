// The admin unix socket (in.mpathd listened on TCP 5999 for if_mpadm; ipmpd
// uses a 0600 unix socket): offline/online, reload, status, and a stream of
// probe results for `ipmpd stat -p`.

import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { MAX_REQUEST_BYTES, parseRequest, type AdminRequest, type AdminResponse } from './protocol.js';
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
}

const IDLE_TIMEOUT_MS = 30_000;

/**
 * Binds the admin socket, before the daemon touches the host: a path it cannot
 * use, or one a running ipmpd answers on, is an AdminSocketError and nothing
 * has changed yet.
 */
export async function bindAdminSocket(path: string): Promise<AdminSocket> {
  makeSocketDirectory(path);
  await clearStaleSocket(path);
  let handlers: AdminHandlers | undefined;
  const server = createServer((socket) => serve(socket, () => handlers));
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
    throw new AdminSocketError(path, `cannot listen: ${errnoText(err)}`);
  } finally {
    process.umask(old);
  }
  server.on('close', () => rmSync(path, { force: true }));
  try {
    chmodSync(path, 0o600);
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new AdminSocketError(path, `cannot make it 0600: ${errnoText(err)}`);
  }
  return {
    server,
    serve: (h) => {
      handlers = h;
    },
  };
}

export async function startAdminServer(path: string, handlers: AdminHandlers): Promise<Server> {
  const socket = await bindAdminSocket(path);
  socket.serve(handlers);
  return socket.server;
}

function serve(socket: Socket, current: () => AdminHandlers | undefined): void {
  let buffer = '';
  let unsubscribe: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.setTimeout(IDLE_TIMEOUT_MS, () => {
    if (!unsubscribe) socket.end();
  });
  const reply = (r: AdminResponse | unknown) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(r)}\n`);
  };
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_REQUEST_BYTES && !buffer.includes('\n')) {
      reply({ ok: false, error: `request larger than ${MAX_REQUEST_BYTES} bytes refused` });
      socket.end();
      socket.destroy();
      return;
    }
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
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
