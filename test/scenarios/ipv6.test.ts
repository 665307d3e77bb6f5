// IPv6 probing: link-local test addresses, a link-local router as target on
// each NIC, failure only when both address families lose their probes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess } from './ipmpd.js';

test('ICMPv6 probes from link-local test addresses; a silent cut fails the NIC only when both families are lost', async () => {
  const spec = twoNicGroup();
  spec.hosts.find((h) => h.name === 'router')!.nics[0]!.addresses!.push('fe80::1/64');
  const lab = await Lab.create(spec);
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', `failure_detection_time: 1s
fix_sysctls: true
groups:
  - name: g
    interfaces:
      - name: eth0
        test_address: [198.18.11.6/24, fe80::6/64]
      - name: eth1
        test_address: [198.18.11.7/24, fe80::7/64]
    data_addresses:
      - address: 2001:db8:11::5/64
        preferred_interface: eth0
`);
  try {
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth0', 'metric', '100']);
    await lab.exec('ipmp', ['ip', '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth1', 'metric', '200']);
    await ipmpd.waitFor('IPv6 answers on both NICs', () => new Set(ipmpd.lines.filter((l) => l.event === 'probe_acked' && l.family === 6).map((l) => l.ifname)).size === 2, 15_000);
    type Status = { groups: Array<{ interfaces: Array<{ name: string; instances: Array<{ family: number; mode: string; targets: Array<{ address: string; replies: number }> }> }> }> };
    const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as Status;
    for (const i of status.groups[0]!.interfaces) {
      const v6 = i.instances.find((x) => x.family === 6)!;
      assert.equal(v6.mode, 'routes', i.name);
      assert.deepEqual(v6.targets.map((t) => t.address), ['fe80::1'], i.name);
      assert.ok(v6.targets[0]!.replies > 0, `${i.name}: no IPv6 reply`);
    }
    const t0 = Date.now();
    await lab.silentCut('ipmp', 'eth0');
    const failure = await ipmpd.waitFor('eth0 failure', (l) => l.event === 'interface_failed' && l.interface === 'eth0' && l.at >= t0, 10_000);
    assert.equal(failure.cause, 'probe');
    for (const family of [4, 6]) {
      const lost = ipmpd.lines.filter((l) => l.event === 'probe_lost' && l.ifname === 'eth0' && l.family === family && l.at >= t0 && l.at <= failure.at);
      assert.ok(lost.length >= 5, `IPv${family}: failed after ${lost.length} lost probes`);
    }
    await ipmpd.waitFor('the IPv6 data address moved', (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t0, 5000);
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
});
