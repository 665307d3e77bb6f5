// Talking to a running daemon over its admin socket.

import { createConnection } from 'node:net';
import { LineSplitter, toLine, type AdminRequest, type AdminResponse } from './protocol.js';

export class AdminUnavailable extends Error {
  constructor(
    message: string,
    /** the errno of the connect, when there was one (EACCES: not open to this user) */
    readonly code?: string,
  ) {
    super(message);
  }
}

function unreachable(path: string, err: NodeJS.ErrnoException): AdminUnavailable {
  const why =
    err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
      ? 'is ipmpd running? (no socket there, or nothing listening)'
      : err.code === 'EACCES'
        ? 'permission denied (the socket or its directory is not open to this user)'
        : err.message;
  return new AdminUnavailable(`cannot reach ipmpd at ${path}: ${why}`, err.code);
}

export function adminRequest(path: string, request: AdminRequest, timeoutMs = 5000): Promise<AdminResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const lines = new LineSplitter();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new AdminUnavailable(`no answer from ipmpd on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(toLine(request)));
    socket.on('data', (chunk: string) => {
      const [answer] = lines.push(chunk);
      if (answer === undefined) return;
      clearTimeout(timer);
      socket.end();
      try {
        resolve(JSON.parse(answer) as AdminResponse);
      } catch {
        reject(new Error(`ipmpd sent an unreadable answer on ${path}`));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unreachable(path, err));
    });
  });
}

/** Stream lines (after the first acknowledgement, announced by onAccepted) until the caller stops. */
export function adminStream(
  path: string,
  request: AdminRequest,
  onLine: (value: unknown) => void,
  onAccepted: () => void = () => {},
): { stop: () => void; done: Promise<void> } {
  const socket = createConnection(path);
  const lines = new LineSplitter();
  let acknowledged = false;
  let refused = false; // the daemon answered the request with an error
  const done = new Promise<void>((resolve, reject) => {
    socket.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        refused
          ? err
          : acknowledged
            ? new Error(`connection to ipmpd at ${path} lost: ${err.message}`)
            : unreachable(path, err),
      ),
    );
    socket.on('close', () => resolve());
  });
  socket.setEncoding('utf8');
  socket.on('connect', () => socket.write(toLine(request)));
  socket.on('data', (chunk: string) => {
    for (const line of lines.push(chunk)) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        refused = true;
        socket.destroy(new Error(`ipmpd sent an unreadable line on ${path}`));
        return;
      }
      if (!acknowledged) {
        acknowledged = true;
        const r = value as AdminResponse;
        if (!r.ok) {
          refused = true;
          socket.destroy(new Error(r.error));
          return;
        }
        onAccepted();
        continue;
      }
      onLine(value);
    }
  });
  return { stop: () => socket.end(), done };
}
