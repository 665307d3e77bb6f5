// Binding the admin socket: every path it cannot use is an AdminSocketError
// naming the option, the path and the errno (never a hang, never a deletion of
// something that is not ours); a running ipmpd's socket is left alone; a stale
// one is replaced.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bindAdminSocket, bindStatusSocket, startAdminServer, type AdminHandlers } from '../../../src/admin/server.js';
import { AdminSocketError } from '../../../src/admin/socketFile.js';

const root = mkdtempSync(join(tmpdir(), 'ipmpd-admin-socket-'));
after(() => rmSync(root, { recursive: true, force: true }));

const handlers: AdminHandlers = { handle: (req) => ({ ok: true, result: req.op }), watchProbes: () => () => undefined };

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function request(path: string, line: string): Promise<{ ok: boolean; result?: unknown; error?: string }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buf = '';
    socket.on('data', (c) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        socket.destroy();
        resolve(JSON.parse(buf.slice(0, nl)) as { ok: boolean });
      }
    });
    socket.on('error', reject);
    socket.write(`${line}\n`);
  });
}

async function refusal(path: string): Promise<AdminSocketError> {
  const err = await bindAdminSocket(path).then(
    (s) => {
      s.server.close();
      assert.fail(`bound ${path}`);
    },
    (e: unknown) => e,
  );
  assert.ok(err instanceof AdminSocketError, `not an AdminSocketError: ${String(err)}`);
  assert.ok(err.message.startsWith(`admin_socket ${path}: `), err.message);
  return err;
}

test('missing directories are made 0755 one by one (the socket guards itself), the socket is 0600 and serves', async () => {
  const path = join(root, 'a', 'b', 'admin.sock');
  const server = await startAdminServer(path, handlers);
  try {
    assert.equal(statSync(join(root, 'a')).mode & 0o777, 0o755);
    assert.equal(statSync(join(root, 'a', 'b')).mode & 0o777, 0o755);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(await request(path, '{"op":"status"}'), { ok: true, result: 'status' });
  } finally {
    await close(server);
  }
  assert.equal(existsSync(path), false, 'closing removes the socket file');
});

test('a directory under /proc is an error naming the path and ENOENT, at once (Node’s recursive mkdir loops forever there)', async () => {
  const t0 = Date.now();
  const err = await refusal('/proc/ipmpd/admin.sock');
  assert.match(err.message, /cannot create directory \/proc\/ipmpd: ENOENT \(no such file or directory\)/);
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(existsSync('/proc/ipmpd'), false);
});

test('a parent that is a regular file is ENOTDIR, and the file is untouched', async () => {
  const file = join(root, 'plain');
  writeFileSync(file, 'keep me');
  const err = await refusal(join(file, 'admin.sock'));
  assert.match(err.message, new RegExp(`${file} is not a directory \\(ENOTDIR\\)`));
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
  const deeper = await refusal(join(file, 'sub', 'admin.sock'));
  assert.match(deeper.message, /ENOTDIR/);
});

test('unwritable places are errors with their errno (even for root): a directory in /sys, a socket in /proc', async () => {
  assert.match((await refusal('/sys/ipmpd/admin.sock')).message, /cannot create directory \/sys\/ipmpd: EPERM/);
  assert.match((await refusal('/proc/admin.sock')).message, /cannot listen: EACCES \(permission denied\)/);
  // a failed listen leaves the process umask as it found it
  const mask = process.umask();
  assert.equal(process.umask(mask), mask);
  assert.notEqual(mask, 0o177);
});

test('a socket a running ipmpd answers on is refused, and the running one keeps serving it', async () => {
  const path = join(root, 'running.sock');
  const first = await startAdminServer(path, handlers);
  try {
    const err = await refusal(path);
    assert.equal(err.message, `admin_socket ${path}: another ipmpd is running on ${path}`);
    assert.ok(statSync(path).isSocket());
    assert.deepEqual(await request(path, '{"op":"status"}'), { ok: true, result: 'status' });
  } finally {
    await close(first);
  }
});

test('a stale socket (nothing listens: a crash, kill -9) is replaced', async () => {
  const path = join(root, 'stale.sock');
  // a process that binds and exits without closing leaves the file, as a crash does
  const r = spawnSync(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`,
  ]);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.ok(statSync(path).isSocket());
  const server = await startAdminServer(path, handlers);
  try {
    assert.deepEqual(await request(path, '{"op":"status"}'), { ok: true, result: 'status' });
  } finally {
    await close(server);
  }
});

test('something other than a socket at the path is never deleted', async () => {
  const path = join(root, 'notasocket');
  writeFileSync(path, 'data');
  assert.match((await refusal(path)).message, /exists and is not a socket/);
  assert.equal(readFileSync(path, 'utf8'), 'data');
});

test('a bound socket answers "starting" until the daemon hands it its handlers', async () => {
  const path = join(root, 'early.sock');
  const admin = await bindAdminSocket(path);
  try {
    assert.deepEqual(await request(path, '{"op":"status"}'), { ok: false, error: 'ipmpd is starting' });
    admin.serve(handlers);
    assert.deepEqual(await request(path, '{"op":"status"}'), { ok: true, result: 'status' });
  } finally {
    await close(admin.server);
  }
});

test('the status socket: its mode and group as asked, status and the probe stream only, closed with the admin socket', async () => {
  const admin = await bindAdminSocket(join(root, 'st', 'admin.sock'));
  const path = join(root, 'st', 'status.sock');
  const status = await bindStatusSocket(path, admin, { mode: 0o660, gid: 65534 });
  try {
    assert.equal(statSync(path).mode & 0o777, 0o660);
    assert.equal(statSync(path).gid, 65534);
    assert.match((await request(path, '{"op":"status"}')).error ?? '', /ipmpd is starting/);
    admin.serve(handlers);
    assert.deepEqual(await request(path, '{"op":"status"}'), { ok: true, result: 'status' });
    assert.deepEqual(await request(path, '{"op":"watch_probes"}'), { ok: true, result: 'watching' });
    for (const line of [
      '{"op":"offline","interface":"eth0"}',
      '{"op":"online","interface":"eth0"}',
      '{"op":"reload"}',
    ]) {
      const r = await request(path, line);
      assert.equal(r.ok, false, line);
      assert.match(r.error ?? '', /refused: .*status\.sock is the read-only status socket/);
    }
    assert.deepEqual(await request(admin.server.address() as string, '{"op":"reload"}'), {
      ok: true,
      result: 'reload',
    });
  } finally {
    await close(admin.server);
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(status.listening, false, 'the status socket closes with the admin socket');
  assert.equal(existsSync(path), false);
});

test('a status socket path that is taken is an error naming --status.socket', async () => {
  const admin = await bindAdminSocket(join(root, 'st2', 'admin.sock'));
  try {
    writeFileSync(join(root, 'st2', 'status.sock'), 'not a socket');
    await assert.rejects(
      bindStatusSocket(join(root, 'st2', 'status.sock'), admin),
      /^AdminSocketError: --status.socket .*status.sock: exists and is not a socket/,
    );
  } finally {
    await close(admin.server);
  }
});
