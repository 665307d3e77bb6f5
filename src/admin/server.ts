// The admin unix socket (in.mpathd listened on TCP 5999 for if_mpadm; ipmpd
// uses a 0600 unix socket): offline/online, reload, status, and a stream of
// probe results for `ipmpd stat -p`.

import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { MAX_REQUEST_BYTES, parseRequest, type AdminRequest, type AdminResponse } from './protocol.js';

export interface AdminHandlers {
  handle(request: Exclude<AdminRequest, { op: 'watch_probes' }>): Promise<AdminResponse> | AdminResponse;
  /** Subscribe to probe results; returns an unsubscribe function. */
  watchProbes(send: (line: unknown) => void): () => void;
}

const IDLE_TIMEOUT_MS = 30_000;

export async function startAdminServer(path: string, handlers: AdminHandlers): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  rmSync(path, { force: true }); // a stale socket from a previous run
  const server = createServer((socket) => serve(socket, handlers));
  server.maxConnections = 32;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const old = process.umask(0o177); // created 0600, with no window where it is wider
    server.listen(path, () => {
      process.umask(old);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  server.on('close', () => rmSync(path, { force: true }));
  return server;
}

function serve(socket: Socket, handlers: AdminHandlers): void {
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
