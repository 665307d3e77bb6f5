// The admin socket, with the real `ipmpd run` in a lab host: a
// path it cannot use (under /proc, where Node's recursive mkdir used to spin
// forever) and a running ipmpd's socket both end the start with exit code 1
// and the reason, before the host is touched; a stale socket is replaced.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** What a start may not change: addresses, routes, and the sysctls fix_sysctls would rewrite. */
async function hostState(lab: Lab): Promise<string> {
  const out = await Promise.all([
    lab.exec('ipmp', ['ip', '-j', 'addr']),
    lab.exec('ipmp', ['ip', 'route', 'show', 'table', 'all']),
    lab.exec('ipmp', ['sysctl', 'net.ipv4.conf', 'net.ipv4.icmp_echo_ignore_broadcasts']),
  ]);
  return out.map((r) => r.stdout).join('\n');
}

/** `ipmpd run` in the lab's ipmp host with this config, to its exit. */
async function runToExit(lab: Lab, dir: string, yaml: string): Promise<{ code: number; stderr: string; ms: number }> {
  const config = join(dir, 'ipmpd.yaml');
  writeFileSync(config, yaml);
  const t0 = Date.now();
  const r = await lab.exec(
    'ipmp',
    ['node', MAIN, 'run', '--config.file', config, '--log.format', 'json', '--web.listen-address', '127.0.0.1:9741'],
    { allowFail: true, timeoutMs: 15_000 },
  );
  return { code: r.code, stderr: r.stderr, ms: Date.now() - t0 };
}

test('admin_socket under /proc: exit 1 within seconds, naming the option, the path and the errno; the host untouched', async () => {
  const lab = await Lab.create(twoNicGroup());
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-adminsock-'));
  try {
    const before = await hostState(lab);
    const r = await runToExit(lab, dir, `admin_socket: /proc/ipmpd/admin.sock\n${twoNicYaml({ fdt: '1s' })}`);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.match(r.stderr, /admin_socket \/proc\/ipmpd\/admin.sock: cannot create directory \/proc\/ipmpd: ENOENT/);
    assert.doesNotMatch(r.stderr, /"event":"(sysctl_fixed|test_address_added|address_moved|started)"/);
    assert.equal(await hostState(lab), before, 'the failed start changed the host');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await lab.destroy();
  }
});

test('a second ipmpd on the socket of a running one exits 1 and the first keeps serving; a stale socket is replaced', async () => {
  const lab = await Lab.create(twoNicGroup());
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-adminsock-'));
  // a socket left by a process that died without closing it, as after kill -9
  const staleDir = mkdtempSync(join(tmpdir(), 'ipmpd-adminsock-'));
  const stale = join(staleDir, 'admin.sock');
  const left = spawnSync(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.exit(0))`,
  ]);
  assert.equal(left.status, 0, left.stderr.toString());
  const first = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }), { dir: staleDir });
  try {
    await first.waitFor('the first ipmpd started over the stale socket', (l) => l.event === 'started', 15_000);
    await first.waitFor('the data address placed', (l) => l.event === 'address_moved', 15_000);
    await first.waitFor(
      'both NICs answered',
      () => new Set(first.events('probe_acked').map((l) => l.ifname)).size === 2,
      15_000,
    );
    assert.ok(statSync(first.adminSocket).isSocket());

    const before = await hostState(lab);
    const r = await runToExit(lab, dir, `admin_socket: ${first.adminSocket}\n${twoNicYaml({ fdt: '1s' })}`);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.ok(r.stderr.includes(`another ipmpd is running on ${first.adminSocket}`), r.stderr);
    assert.equal(await hostState(lab), before, 'the refused start changed the host');

    // the first one still owns and serves its socket
    assert.equal(first.child.exitCode, null);
    assert.ok(existsSync(first.adminSocket));
    const stat = await lab.exec('ipmp', ['node', MAIN, 'stat', '--admin.socket', first.adminSocket], {
      allowFail: true,
    });
    assert.equal(stat.code, 0, stat.stderr);
    assert.match(stat.stdout, /eth0/);
  } finally {
    await first.stop();
    rmSync(dir, { recursive: true, force: true });
    await lab.destroy();
  }
  assert.equal(existsSync(staleDir), false, 'IpmpdProcess.stop() leaves its directory behind');
});
