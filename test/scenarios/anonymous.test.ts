// track_interfaces_only_with_groups, in.mpathd's anonymous
// group. eth1 of the seed-A lab is left out of the group with an address of
// its own: with `false` it is probed from that address and a silent cut fails
// it in the metrics while nothing moves; with `true` it is not looked at.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, type LogLine } from './ipmpd.js';
import { parseSamples, total } from './metricsText.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const OWN = '198.18.11.7';

function yaml(track: boolean): string {
  return `failure_detection_time: 1s
fix_sysctls: true
track_interfaces_only_with_groups: ${track}
groups:
  - name: unrealgrp1
    interfaces:
      - name: eth0
        test_address: 198.18.11.6/24
    data_addresses:
      - 198.18.11.5/24
`;
}

/** eth1 as NetworkManager would leave it: up, its own address, in no group. */
async function labWithLoneNic(): Promise<Lab> {
  const lab = await Lab.create(twoNicGroup());
  try {
    await lab.exec('ipmp', ['ip', 'addr', 'add', `${OWN}/24`, 'dev', 'eth1', 'noprefixroute']);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1', 'dev', 'eth0', 'onlink']);
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  return lab;
}

/** Every address on the host, as text: what must not change. */
async function hostAddresses(lab: Lab): Promise<string> {
  return (await lab.addresses('ipmp'))
    .map((a) => `${a.cidr} ${a.dev}`)
    .sort()
    .join('\n');
}

const fromEth1 = (since: number) => (l: LogLine) => l.event === 'probe_acked' && l.ifname === 'eth1' && l.at >= since;

test('track_interfaces_only_with_groups: false: a NIC in no group is probed from its own address; a silent cut fails it, nothing moves', async () => {
  const lab = await labWithLoneNic();
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', yaml(false));
  try {
    const ack = await ipmpd.waitFor('an answered probe from eth1', fromEth1(0), 15_000);
    assert.equal(ack.group, 'anonymous');
    await ipmpd.waitFor('the data address placed', (l) => l.event === 'address_moved' && l.to === 'eth0', 10_000);
    await new Promise((r) => setTimeout(r, 1500)); // a few answered probes, a stable host
    const metrics = async () => parseSamples((await ipmpd.http('/metrics')).body);
    const eth1 = { group: 'anonymous', device: 'eth1' };
    const seriesOfEth1 = async () => (await metrics()).filter((x) => x.labels.device === 'eth1').length;
    assert.equal(total(await metrics(), 'ipmp_interface_failed', eth1), 0);
    assert.equal(total(await metrics(), 'ipmp_interface_state', { ...eth1, state: 'ok' }), 1);
    assert.ok(total(await metrics(), 'ipmp_probe_requests_total', eth1) > 0, 'no probe counted for eth1');
    const stat = await ipmpd.stat(['-t', '-P', '-o', 'interface,testaddr,targets']);
    assert.match(stat, new RegExp(`^eth1:${OWN.replace(/\./g, '\\.')}:198\\.18\\.11\\.1$`, 'm'));
    const addressesBefore = await hostAddresses(lab);

    const t0 = Date.now();
    await lab.silentCut('ipmp', 'eth1');
    const failure = await ipmpd.waitFor(
      'eth1 failed by probes',
      (l) => l.event === 'interface_failed' && l.interface === 'eth1' && l.at >= t0,
      5000,
    );
    assert.equal(failure.cause, 'probe');
    assert.equal(total(await metrics(), 'ipmp_interface_failed', eth1), 1);
    assert.equal(total(await metrics(), 'ipmp_group_state', { group: 'unrealgrp1', state: 'ok' }), 1);
    const statI = await ipmpd.stat(['-i', '-P', '-o', 'interface,group,state']);
    assert.match(statI, /^eth1:anonymous:failed$/m);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(
      ipmpd.lines.filter(
        (l) =>
          (l.event === 'address_moved' || l.event === 'group_state' || l.event === 'test_address_added') && l.at >= t0,
      ),
      [],
    );
    assert.equal(await hostAddresses(lab), addressesBefore);

    // repaired like any member
    const t1 = Date.now();
    await lab.reattach('ipmp', 'eth1');
    await ipmpd.waitFor(
      'eth1 repaired',
      (l) => l.event === 'interface_repaired' && l.interface === 'eth1' && l.at >= t1,
      10_000,
    );

    // a reload carries it over; its address gone (a link change), it is no longer watched
    const t2 = Date.now();
    ipmpd.child.kill('SIGHUP');
    const reloaded = await ipmpd.waitFor('the reload', (l) => l.event === 'config_reloaded' && l.at >= t2, 10_000);
    assert.ok(
      (reloaded.carried_interfaces as string[]).includes('eth1'),
      `eth1 not carried over: ${JSON.stringify(reloaded.carried_interfaces)}`,
    );
    await ipmpd.waitFor('eth1 probed after the reload', fromEth1(reloaded.at), 5000);
    await lab.exec('ipmp', ['ip', 'addr', 'del', `${OWN}/24`, 'dev', 'eth1']);
    await new Promise((r) => setTimeout(r, 1000));
    const t3 = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(
      ipmpd.lines.filter((l) => l.event === 'probe_acked' && l.ifname === 'eth1' && l.at >= t3).length,
      0,
      'eth1 still probed without an address',
    );
    assert.equal(await seriesOfEth1(), 0, 'eth1 still in the metrics without an address');
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
});

test('track_interfaces_only_with_groups: true (the default): a NIC in no group is not looked at', async () => {
  const lab = await labWithLoneNic();
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', yaml(true));
  try {
    await ipmpd.waitFor('eth0 answered', (l) => l.event === 'probe_acked' && l.ifname === 'eth0', 15_000);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(ipmpd.lines.filter((l) => l.ifname === 'eth1' || l.interface === 'eth1').length, 0);
    const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as { groups: Array<{ name: string }> };
    assert.deepEqual(
      status.groups.map((g) => g.name),
      ['unrealgrp1'],
    );
    assert.equal(parseSamples((await ipmpd.http('/metrics')).body).filter((x) => x.labels.device === 'eth1').length, 0);
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
});
