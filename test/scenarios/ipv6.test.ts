// IPv6 probing: link-local test addresses, a link-local router as target on
// each NIC, failure only when both address families lose their probes; and
// probes that leave from the configured test address when the NIC has others.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess } from './ipmpd.js';

test('ICMPv6 probes from link-local test addresses; a silent cut fails the NIC only when both families are lost', async () => {
  const spec = twoNicGroup();
  spec.hosts.find((h) => h.name === 'router')!.nics[0]!.addresses!.push('fe80::1/64');
  const lab = await Lab.create(spec);
  const ipmpd = IpmpdProcess.start(
    lab,
    'ipmp',
    `failure_detection_time: 1s
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
`,
  );
  try {
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth0', 'metric', '100']);
    await lab.exec('ipmp', ['ip', '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth1', 'metric', '200']);
    await ipmpd.waitFor(
      "the router's IPv6 answers on both NICs",
      // (a host found by multicast may answer first, before the default routes make the router the target)
      () =>
        new Set(
          ipmpd.lines
            .filter((l) => l.event === 'probe_acked' && l.family === 6 && l.target === 'fe80::1')
            .map((l) => l.ifname),
        ).size === 2,
      15_000,
    );
    type Status = {
      groups: Array<{
        interfaces: Array<{
          name: string;
          instances: Array<{ family: number; mode: string; targets: Array<{ address: string; replies: number }> }>;
        }>;
      }>;
    };
    const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as Status;
    for (const i of status.groups[0]!.interfaces) {
      const v6 = i.instances.find((x) => x.family === 6)!;
      assert.equal(v6.mode, 'routes', i.name);
      assert.deepEqual(
        v6.targets.map((t) => t.address),
        ['fe80::1'],
        i.name,
      );
      assert.ok(v6.targets[0]!.replies > 0, `${i.name}: no IPv6 reply`);
    }
    const t0 = Date.now();
    await lab.silentCut('ipmp', 'eth0');
    const failure = await ipmpd.waitFor(
      'eth0 failure',
      (l) => l.event === 'interface_failed' && l.interface === 'eth0' && l.at >= t0,
      10_000,
    );
    assert.equal(failure.cause, 'probe');
    for (const family of [4, 6]) {
      const lost = ipmpd.lines.filter(
        (l) =>
          l.event === 'probe_lost' && l.ifname === 'eth0' && l.family === family && l.at >= t0 && l.at <= failure.at,
      );
      assert.ok(lost.length >= 5, `IPv${family}: failed after ${lost.length} lost probes`);
    }
    await ipmpd.waitFor(
      'the IPv6 data address moved',
      (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t0,
      5000,
    );
  } finally {
    await ipmpd.stop();
    await lab.destroy();
    rmSync(ipmpd.dir, { recursive: true, force: true });
  }
});

const COUNT_ECHO_REQUESTS = (mac: string) => `table inet ipmpd_probe_source {
  chain in {
    type filter hook input priority 0;
    ether saddr ${mac} icmpv6 type echo-request counter
    ether saddr ${mac} ip6 saddr fe80::6 icmpv6 type echo-request counter
  }
}
`;

test('IPv6 probes leave from the configured test address, not the link-local the kernel would pick', async (t) => {
  const spec = twoNicGroup();
  spec.hosts.find((h) => h.name === 'router')!.nics[0]!.addresses!.push('fe80::1/64');
  const lab = await Lab.create(spec);
  let ipmpd: IpmpdProcess | undefined;
  try {
    // the configured one first, then another: the kernel prefers the newer for its own sends
    await lab.exec('ipmp', ['ip', '-6', 'addr', 'add', 'fe80::6/64', 'dev', 'eth0', 'nodad']);
    await lab.exec('ipmp', ['ip', '-6', 'addr', 'add', 'fe80::99/64', 'dev', 'eth0', 'nodad']);
    const route = JSON.parse(
      (await lab.exec('ipmp', ['ip', '-6', '-j', 'route', 'get', 'fe80::1', 'oif', 'eth0'])).stdout,
    ) as Array<{ prefsrc?: string }>;
    const kernelChoice = route[0]?.prefsrc;
    assert.ok(
      kernelChoice && kernelChoice !== 'fe80::6',
      `the kernel would send from ${kernelChoice}: this lab would prove nothing`,
    );
    const mac = await lab.mac('ipmp', 'eth0');
    await lab.exec('router', ['nft', '-f', '-'], { input: COUNT_ECHO_REQUESTS(mac) });

    ipmpd = IpmpdProcess.start(
      lab,
      'ipmp',
      `failure_detection_time: 1s
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
`,
    );
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth0', 'metric', '100']);
    await lab.exec('ipmp', ['ip', '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth1', 'metric', '200']);
    const acked = () =>
      ipmpd!.lines.filter(
        (l) => l.event === 'probe_acked' && l.family === 6 && l.ifname === 'eth0' && l.target === 'fe80::1',
      ).length;
    await ipmpd.waitFor('ten IPv6 answers from the router on eth0', () => acked() >= 10, 15_000);

    const ruleset = (await lab.exec('router', ['nft', 'list', 'table', 'inet', 'ipmpd_probe_source'])).stdout;
    const [fromEth0, fromTestAddress] = [...ruleset.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    t.diagnostic(
      `kernel's choice ${kernelChoice}; echo requests from eth0 at the router: ${fromEth0}, from fe80::6: ${fromTestAddress}; ${acked()} answered`,
    );
    assert.ok(fromEth0! >= 10, `echo requests from eth0 seen: ${fromEth0}`);
    assert.equal(fromTestAddress, fromEth0, 'every IPv6 probe from eth0 has the test address as source');
    const lost = ipmpd.lines.filter((l) => l.event === 'probe_lost' && l.family === 6 && l.ifname === 'eth0').length;
    assert.equal(lost, 0, 'IPv6 probes lost on eth0');
  } finally {
    await ipmpd?.stop();
    await lab.destroy();
    if (ipmpd) rmSync(ipmpd.dir, { recursive: true, force: true });
  }
});
