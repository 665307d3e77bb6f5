// Reload and shutdown: a valid new config is applied without moving
// addresses that need not move; an invalid one is refused and the old one
// keeps running; SIGTERM leaves the addresses where they are.
// A reload is all or nothing (one the host refuses leaves failover
// armed and no trace of the attempt), and a reload of the same file changes
// nothing a user can see.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('reload on SIGHUP and through the admin socket; graceful shutdown', async () => {
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
  try {
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    const configFile = join(ipmpd.dir, 'ipmpd.yaml');
    const write = (yaml: string) => writeFileSync(configFile, `admin_socket: ${ipmpd.adminSocket}\n${yaml}`);

    // a valid change: slower FDT and one more data address
    const t0 = Date.now();
    write(
      twoNicYaml({ fdt: '2s' }).replace(
        '        preferred_interface: eth0\n',
        '        preferred_interface: eth0\n      - 198.18.11.15/24\n',
      ),
    );
    ipmpd.child.kill('SIGHUP');
    await ipmpd.waitFor('the reload', (l) => l.event === 'config_reloaded' && l.at >= t0, 10_000);
    await ipmpd.waitFor(
      'the new address placed',
      (l) => l.event === 'address_moved' && l.ip_address === '198.18.11.15' && l.at >= t0,
      10_000,
    );
    assert.equal(
      ipmpd.lines.filter((l) => l.event === 'address_moved' && l.ip_address === '198.18.11.5' && l.at >= t0).length,
      0,
      'the reload moved an address that did not need to move',
    );
    assert.deepEqual(await lab.holders('ipmp', '198.18.11.5'), ['eth0']);
    const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as { groups: Array<{ fdtMs: number }> };
    assert.equal(status.groups[0]!.fdtMs, 2000);

    // an invalid file is refused, with the error, and the old configuration keeps running
    const t1 = Date.now();
    write('failure_detection_time: 10\n');
    ipmpd.child.kill('SIGHUP');
    const refused = await ipmpd.waitFor('the refusal', (l) => l.event === 'config_reload_failed' && l.at >= t1, 10_000);
    assert.match(refused.msg!, /ipmpd\.yaml:2:25: failure_detection_time: must be a duration/);
    assert.match((await ipmpd.http('/metrics')).body, /^ipmp_config_last_reload_successful 0$/m);
    const viaSocket = await lab.exec('ipmp', ['node', MAIN, 'reload', '--admin.socket', ipmpd.adminSocket], {
      allowFail: true,
    });
    assert.equal(viaSocket.code, 1);
    assert.match(viaSocket.stderr, /must be a duration/);
    const t2 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    await ipmpd.waitFor(
      'a failover under the old config',
      (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t2,
      10_000,
    );

    // SIGTERM: the daemon stops, the addresses stay
    const before = (await lab.exec('ipmp', ['ip', '-br', 'addr'])).stdout;
    await ipmpd.stop('SIGTERM');
    assert.equal(ipmpd.child.exitCode, 0);
    assert.equal((await lab.exec('ipmp', ['ip', '-br', 'addr'])).stdout, before);
    assert.deepEqual(await lab.holders('ipmp', '198.18.11.5'), ['eth1']);
  } finally {
    await ipmpd.stop();
    await lab.destroy();
    rmSync(ipmpd.dir, { recursive: true, force: true });
  }
});

/** The yaml the daemon was started with, plus its admin socket line, as `IpmpdProcess.start` writes it. */
function writeConfig(ipmpd: IpmpdProcess, yaml: string): void {
  writeFileSync(join(ipmpd.dir, 'ipmpd.yaml'), `admin_socket: ${ipmpd.adminSocket}\n${yaml}`);
}

async function adminReload(lab: Lab, ipmpd: IpmpdProcess) {
  return lab.exec('ipmp', ['node', MAIN, 'reload', '--admin.socket', ipmpd.adminSocket], { allowFail: true });
}

/** Every sample of a metric family, by its label text. */
async function samples(ipmpd: IpmpdProcess, name: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await ipmpd.http('/metrics')).body.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) out.set(m[1] ?? '', Number(m[2]));
  }
  return out;
}

interface StatusTarget {
  address: string;
  requests: number;
  replies: number;
  rttAverageMs: number;
}
async function eth0Targets(ipmpd: IpmpdProcess): Promise<StatusTarget[]> {
  const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as {
    groups: Array<{ interfaces: Array<{ name: string; instances: Array<{ targets: StatusTarget[] }> }> }>;
  };
  return status.groups[0]!.interfaces.find((i) => i.name === 'eth0')!.instances[0]!.targets;
}

const STATE_EVENTS = new Set([
  'address_moved',
  'interface_failed',
  'interface_repaired',
  'group_state',
  'group_failed',
  'group_usable',
  'link_down',
  'link_up',
  'target_added',
  'target_removed',
  'target_status',
  'fdt_raised',
  'fdt_lowered',
  'test_address_added',
]);

test('a reload the host refuses changes nothing and failover still works; an identical reload changes nothing', async () => {
  const lab = await Lab.create(twoNicGroup());
  const yaml = twoNicYaml({ fdt: '1s' });
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', yaml);
  try {
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    await ipmpd.waitFor(
      'a router target',
      (l) => l.event === 'target_added' && l.target === '198.18.11.1' && l.interface === 'eth0',
      10_000,
    );
    await new Promise((r) => setTimeout(r, 1500)); // some probes answered: RTT known, counters moving

    // (b) the same file again: no events, counters and probe history go on
    const requestsBefore = await samples(ipmpd, 'ipmp_probe_requests_total');
    const targetsBefore = await eth0Targets(ipmpd);
    assert.ok(
      targetsBefore[0]!.replies > 0 && targetsBefore[0]!.rttAverageMs > 0,
      'no answered probe before the reload',
    );
    const t0 = Date.now();
    const same = await adminReload(lab, ipmpd);
    assert.equal(same.code, 0, same.stderr);
    const targetsAfter = await eth0Targets(ipmpd);
    assert.equal(targetsAfter[0]!.address, targetsBefore[0]!.address);
    assert.ok(
      targetsAfter[0]!.requests >= targetsBefore[0]!.requests,
      `probe history reset: ${targetsBefore[0]!.requests} -> ${targetsAfter[0]!.requests} requests`,
    );
    assert.ok(targetsAfter[0]!.rttAverageMs > 0, 'the RTT estimate was reset');
    await new Promise((r) => setTimeout(r, 2000));
    const requestsAfter = await samples(ipmpd, 'ipmp_probe_requests_total');
    for (const [labels, before] of requestsBefore)
      assert.ok(
        (requestsAfter.get(labels) ?? 0) >= before,
        `ipmp_probe_requests_total${labels} went from ${before} to ${requestsAfter.get(labels)}`,
      );
    const events = ipmpd.lines.filter((l) => l.at >= t0 && STATE_EVENTS.has(l.event ?? ''));
    assert.deepEqual(events, [], 'the identical reload caused events');
    assert.match((await ipmpd.http('/metrics')).body, /^ipmp_config_last_reload_successful 1$/m);

    // (a) a new file the host cannot apply: an IPv6 test address on a NIC without IPv6
    await lab.exec('ipmp', ['sysctl', '-qw', 'net.ipv6.conf.eth1.disable_ipv6=1']);
    const addressesBefore = (await lab.exec('ipmp', ['ip', '-br', 'addr'])).stdout;
    const rawSocketsBefore = (await lab.exec('ipmp', ['ss', '-Hwan'])).stdout.trim().split('\n').length;
    writeConfig(
      ipmpd,
      yaml
        .replace('test_address: 198.18.11.6/24', 'test_address: [198.18.11.6/24, fe80::6/64]')
        .replace('test_address: 198.18.11.7/24', 'test_address: [198.18.11.7/24, fe80::7/64]'),
    );
    const t1 = Date.now();
    const refused = await adminReload(lab, ipmpd);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /fe80::7\/64 to eth1: .*EACCES/);
    const logged = await ipmpd.waitFor(
      'the failed reload',
      (l) => l.event === 'config_reload_failed' && l.at >= t1,
      5000,
    );
    assert.match(String(logged.error), /fe80::7\/64 to eth1: .*EACCES/);
    assert.match((await ipmpd.http('/metrics')).body, /^ipmp_config_last_reload_successful 0$/m);
    // no leftover: fe80::6 was added to eth0 by the attempt and must be gone again
    assert.equal((await lab.exec('ipmp', ['ip', '-br', 'addr'])).stdout, addressesBefore);
    assert.equal((await lab.exec('ipmp', ['ss', '-Hwan'])).stdout.trim().split('\n').length, rawSocketsBefore);

    // failover is still armed: a carrier cut moves the data address
    const t2 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    await ipmpd.waitFor(
      'a failover after the failed reload',
      (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t2,
      10_000,
    );
    assert.deepEqual(await lab.holders('ipmp', '198.18.11.5'), ['eth1']);

    // back to the running file: the failed NIC stays failed, the failover counts stay
    const failoversBefore = await samples(ipmpd, 'ipmp_failover_duration_seconds_count');
    assert.equal(failoversBefore.get('{group="unrealgrp1"}'), 1);
    writeConfig(ipmpd, yaml);
    const t3 = Date.now();
    const back = await adminReload(lab, ipmpd);
    assert.equal(back.code, 0, back.stderr);
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(
      ipmpd.lines.filter((l) => l.at >= t3 && STATE_EVENTS.has(l.event ?? '')),
      [],
      'the reload caused events',
    );
    assert.deepEqual(await samples(ipmpd, 'ipmp_failover_duration_seconds_count'), failoversBefore);
    assert.deepEqual(await lab.holders('ipmp', '198.18.11.5'), ['eth1']);
    assert.match(
      (await ipmpd.http('/metrics')).body,
      /^ipmp_interface_state\{[^}]*device="eth0"[^}]*state="failed"[^}]*\} 1$/m,
    );
  } finally {
    await ipmpd.stop();
    await lab.destroy();
    rmSync(ipmpd.dir, { recursive: true, force: true });
  }
});
