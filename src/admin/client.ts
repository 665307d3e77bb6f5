// Talking to a running daemon over its admin socket.

import { createConnection } from 'node:net';
import type { AdminRequest, AdminResponse } from './protocol.js';

export class AdminUnavailable extends Error {}

export function adminRequest(path: string, request: AdminRequest, timeoutMs = 5000): Promise<AdminResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new AdminUnavailable(`no answer from ipmpd on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      try {
        resolve(JSON.parse(buffer.slice(0, nl)) as AdminResponse);
      } catch {
        reject(new Error(`ipmpd sent an unreadable answer on ${path}`));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'is ipmpd running?' : err.code === 'EACCES' ? 'permission denied (the socket is root-only)' : err.message;
      reject(new AdminUnavailable(`cannot reach ipmpd at ${path}: ${why}`));
    });
  });
}

/** Stream lines (after the first acknowledgement) until the caller stops. */
export function adminStream(path: string, request: AdminRequest, onLine: (value: unknown) => void): { stop: () => void; done: Promise<void> } {
  const socket = createConnection(path);
  let buffer = '';
  let acknowledged = false;
  const done = new Promise<void>((resolve, reject) => {
    socket.on('error', (err) => reject(new AdminUnavailable(`cannot reach ipmpd at ${path}: ${err.message}`)));
    socket.on('close', () => resolve());
  });
  socket.setEncoding('utf8');
  socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const value = JSON.parse(line) as unknown;
      if (!acknowledged) {
        acknowledged = true;
        const r = value as AdminResponse;
        if (!r.ok) {
          socket.destroy(new Error(r.error));
          return;
        }
        continue;
      }
      onLine(value);
    }
  });
  return { stop: () => socket.end(), done };
}
