// The admin socket against what a confused or hostile local client sends:
// oversized, malformed and misshapen requests are refused with a reason, the
// handlers never see them, and the socket keeps serving good requests.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { MAX_REQUEST_BYTES } from '../../../src/admin/protocol.js';
import { startAdminServer } from '../../../src/admin/server.js';
import type { Server } from 'node:net';

const path = join(mkdtempSync(join(tmpdir(), 'ipmpd-admin-')), 'admin.sock');
const handled: unknown[] = [];
let server: Server;

before(async () => {
  server = await startAdminServer(path, {
    handle: (req) => {
      handled.push(req);
      return { ok: true, result: req.op };
    },
    watchProbes: () => () => undefined,
  });
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dirname(path), { recursive: true, force: true });
});

/** Send raw bytes, collect reply lines until the server closes or `lines` arrived. */
function exchange(
  payload: string | Buffer,
  lines: number,
): Promise<{ replies: Array<{ ok: boolean; error?: string; result?: unknown }>; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buf = '';
    let closed = false;
    const done = () =>
      resolve({
        replies: buf
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { ok: boolean }),
        closed,
      });
    socket.on('data', (c) => {
      buf += c.toString();
      if (buf.split('\n').filter(Boolean).length >= lines) (socket.end(), done());
    });
    socket.on('close', () => ((closed = true), done()));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? ((closed = true), done()) : reject(err),
    );
    socket.write(payload);
  });
}

test('the socket is created 0600', () => {
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test('a request larger than the limit without a newline is refused and the connection closed', async () => {
  const before = handled.length;
  const { replies, closed } = await exchange('{"op":"status","x":"' + 'a'.repeat(MAX_REQUEST_BYTES * 4), Infinity);
  assert.equal(replies[0]?.ok, false);
  assert.match(replies[0]!.error!, /larger than 4096 bytes/);
  assert.ok(closed);
  assert.equal(handled.length, before);
});

test('an oversized line is refused, and the good request after it on the same connection is served', async () => {
  const before = handled.length;
  const { replies } = await exchange(
    `{"op":"offline","interface":"${'e'.repeat(MAX_REQUEST_BYTES)}"}\n{"op":"status"}\n`,
    2,
  );
  assert.match(replies[0]!.error!, /larger than/);
  assert.deepEqual(replies[1], { ok: true, result: 'status' });
  assert.equal(handled.length, before + 1);
});

test('malformed and misshapen requests are refused with the reason; none reaches a handler', async () => {
  const bad: Array<[string, RegExp]> = [
    ['not json', /not JSON/],
    ['{"op":', /not JSON/],
    ['[]', /bad request/],
    ['null', /bad request/],
    ['"status"', /bad request/],
    ['{}', /bad request at "op"/],
    ['{"op":"shutdown"}', /bad request at "op"/],
    ['{"op":"status","extra":1}', /bad request/],
    ['{"op":"offline"}', /bad request at "interface"/],
    ['{"op":"offline","interface":""}', /bad request at "interface"/],
    ['{"op":"offline","interface":"eth0eth0eth0eth0"}', /bad request at "interface"/],
    ['{"op":"offline","interface":7}', /bad request at "interface"/],
    ['{"op":"offline","interface":"eth0","__proto__":{"admin":true}}', /bad request/],
    ['\u0000\u0001\u0002\uFFFD', /not JSON/],
  ];
  const before = handled.length;
  const { replies } = await exchange(bad.map(([line]) => line).join('\n') + '\n', bad.length);
  assert.equal(replies.length, bad.length);
  bad.forEach(([line, reason], i) => {
    assert.equal(replies[i]!.ok, false, line);
    assert.match(replies[i]!.error!, reason, `${line}: ${replies[i]!.error}`);
  });
  assert.equal(handled.length, before);
});

test('a thousand bad lines in a burst, then a good one: all answered, the socket still serves', async () => {
  const burst = Array.from({ length: 1000 }, (_, i) => `{"op":"x${i}"}`).join('\n');
  const { replies } = await exchange(`${burst}\n{"op":"status"}\n`, 1001);
  assert.equal(replies.length, 1001);
  assert.ok(replies.slice(0, 1000).every((r) => r.ok === false));
  assert.deepEqual(replies[1000], { ok: true, result: 'status' });
  // and a fresh connection is served too
  assert.deepEqual((await exchange('{"op":"status"}\n', 1)).replies[0], { ok: true, result: 'status' });
});
