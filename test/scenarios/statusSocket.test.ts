// ipmpstat needs no privilege, so neither does `ipmpd stat`. A
// read-only status socket beside the 0600 admin socket answers status and the
// probe stream to anyone; state changes stay root's, refused with a message
// that says so.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const AS_NOBODY = ['setpriv', '--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups'];

describe('the read-only status socket, used by an unprivileged user', { concurrency: false }, () => {
  let lab: Lab;
  let ipmpd: IpmpdProcess;
  let dir: string;
  let statusSocket: string;

  const asNobody = (args: string[], timeoutMs?: number) =>
    lab.exec('ipmp', [...AS_NOBODY, 'node', MAIN, ...args], { allowFail: true, ...(timeoutMs ? { timeoutMs } : {}) });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ipmpd-status-'));
    chmodSync(dir, 0o755); // as /run/ipmpd: searchable by everyone, the admin socket guards itself
    statusSocket = join(dir, 'status.sock');
    lab = await Lab.create(twoNicGroup());
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }), { args: ['--status.socket', statusSocket] });
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
  });
  after(async () => {
    try {
      await ipmpd?.stop();
      await lab?.destroy();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the status socket is world-connectable (0666), the admin socket stays 0600', () => {
    assert.equal(statSync(statusSocket).mode & 0o777, 0o666);
    assert.equal(statSync(ipmpd.adminSocket).mode & 0o777, 0o600);
  });

  test('nobody runs `ipmpd stat -g` and `-i` and gets the daemon state', async () => {
    const g = await asNobody(['stat', '-g', '-P', '-o', 'group,state', '--status.socket', statusSocket]);
    assert.equal(g.code, 0, g.stderr);
    assert.equal(g.stdout, 'unrealgrp1:ok\n');
    const i = await asNobody(['stat', '-i', '-P', '-o', 'interface,state', '--status.socket', statusSocket]);
    assert.equal(i.stdout, 'eth0:ok\neth1:ok\n');
  });

  test('nobody watches the probe stream with `ipmpd stat -p`', async () => {
    const r = await lab.exec(
      'ipmp',
      ['timeout', '3', ...AS_NOBODY, 'node', MAIN, 'stat', '-p', '-P', '--status.socket', statusSocket],
      { allowFail: true },
    );
    assert.equal(r.code, 124, r.stderr); // still streaming when timeout stopped it
    assert.match(r.stdout, /^[\d.]+s:eth[01]:\d+:/m);
  });

  test('offline by nobody is refused, on the admin socket and on the status socket, and nothing moves', async () => {
    const viaAdmin = await asNobody(['offline', 'eth0', '--admin.socket', ipmpd.adminSocket]);
    assert.equal(viaAdmin.code, 1);
    assert.equal(viaAdmin.stdout, '');
    assert.match(
      viaAdmin.stderr,
      /^ipmpd: offline eth0 refused: changing state needs root \(the admin socket .*admin\.sock is mode 0600\); without root, `ipmpd stat` shows the state\n$/,
    );
    const viaStatus = await asNobody(['offline', 'eth0', '--admin.socket', statusSocket]);
    assert.equal(viaStatus.code, 1);
    assert.match(
      viaStatus.stderr,
      /offline refused: .*status\.sock is the read-only status socket \(status and the probe stream only\); offline goes through the admin socket, as root/,
    );
    const reload = await asNobody(['reload', '--admin.socket', statusSocket]);
    assert.match(reload.stderr, /reload refused: .* read-only status socket/);
    const i = await asNobody(['stat', '-i', '-P', '-o', 'interface,state', '--status.socket', statusSocket]);
    assert.equal(i.stdout, 'eth0:ok\neth1:ok\n');
    assert.equal(ipmpd.events('address_moved').filter((l) => l.reason === 'admin').length, 0);
  });

  test('root offline/online/reload say what happened', async () => {
    const off = await lab.exec('ipmp', ['node', MAIN, 'offline', 'eth0', '--admin.socket', ipmpd.adminSocket]);
    assert.match(off.stdout, /^eth0: offline \(group unrealgrp1: degraded; 198\.18\.11\.5\/24 on eth1\)\n$/);
    const on = await lab.exec('ipmp', ['node', MAIN, 'online', 'eth0', '--admin.socket', ipmpd.adminSocket]);
    assert.match(on.stdout, /^eth0: ok \(group unrealgrp1: ok; 198\.18\.11\.5\/24 on eth0\)\n$/);
    const reload = await lab.exec('ipmp', ['node', MAIN, 'reload', '--admin.socket', ipmpd.adminSocket]);
    assert.equal(reload.stdout, 'configuration reloaded\n');
  });
});
