// probe_method: arp in simulated time: every member probes every on-link
// target with ARP from 0.0.0.0, without a test address; the engine decides
// exactly as with ICMP (same probes at the same times, failure after five lost,
// repair after ten answered); targets come from gateways in the data subnets,
// else from the neighbour table; IPv6 members keep ICMPv6.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonConfig, GroupConfig } from '../../../src/config/types.js';
import { NUM_PROBE_FAILS, NUM_PROBE_REPAIRS } from '../../../src/core/constants.js';
import type { EngineOutput } from '../../../src/core/types.js';
import { cidr, defaultRoute, hostRoute, Sim, twoNicConfig } from './sim.js';

const FDT = 10_000;
const DATA = '198.18.11.5';

function arpConfig(overrides: Partial<DaemonConfig> = {}, group: Partial<GroupConfig> = {}): DaemonConfig {
  return twoNicConfig(overrides, {
    probeMethod: 'arp',
    interfaces: [
      { name: 'eth0', testAddresses: [], standby: false },
      { name: 'eth1', testAddresses: [], standby: false },
    ],
    ...group,
  });
}

const probes = (sim: Sim, since = Number.NEGATIVE_INFINITY) => sim.events('send_probe', since).map((e) => e.output);

test('every member probes every on-link target with ARP from 0.0.0.0, without a test address', () => {
  const routes = [hostRoute('198.18.11.21'), hostRoute('198.18.11.22'), defaultRoute('198.18.11.1')];
  const sim = new Sim(arpConfig(), { seed: 4, routes });
  sim.runFor(60_000);
  const sent = probes(sim).filter((p) => p.probeKind === 'uni');
  assert.ok(sent.length > 0);
  assert.ok(
    sent.every((p) => p.method === 'arp' && p.source === '0.0.0.0' && p.family === 4),
    'a probe that is not an ARP probe from 0.0.0.0',
  );
  for (const nic of ['eth0', 'eth1']) {
    const perTarget = new Map<string, number>();
    for (const p of sent.filter((s) => s.ifname === nic)) perTarget.set(p.target, (perTarget.get(p.target) ?? 0) + 1);
    assert.deepEqual([...perTarget.keys()].sort(), ['198.18.11.1', '198.18.11.21', '198.18.11.22'], nic);
    const counts = [...perTarget.values()];
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${nic}: round robin uneven ${counts.join(' ')}`);
    const view = sim.iface(nic);
    assert.equal(view.probeState, 'ok');
    assert.deepEqual(
      view.instances.map((i) => [i.family, i.method, i.testAddress]),
      [[4, 'arp', undefined]],
    );
    assert.ok(view.instances[0]!.targets.every((t) => t.replies > 0 && t.rttAverageMs > 0));
  }
});

/** The outputs without what only says how a probe travels. */
function decisions(log: Sim['log']): Array<{ at: number; output: EngineOutput }> {
  return log.map(({ at, output }) => {
    const { method: _m, source: _s, ...rest } = output as EngineOutput & { method?: string; source?: string };
    void _m;
    void _s;
    return { at, output: rest as EngineOutput };
  });
}

test('ARP and ICMP probing decide the same: same probes at the same times, failure after five lost, repair after ten (40 seeds)', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const run = (config: DaemonConfig) => {
      const sim = new Sim(config, { seed });
      sim.runFor(60_000);
      const t0 = sim.now + (seed % 997);
      sim.runUntil(t0);
      sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
      sim.runFor(2 * FDT);
      const restored = sim.now;
      sim.rtt = () => 0.2;
      sim.runFor(3 * FDT);
      return { sim, t0, restored };
    };
    const icmp = run(twoNicConfig());
    const arp = run(arpConfig());
    assert.deepEqual(decisions(arp.sim.log), decisions(icmp.sim.log), `seed ${seed}: ARP decided otherwise`);

    const { sim, t0, restored } = arp;
    const failure = sim.events('interface_failed', t0).find((e) => e.output.ifname === 'eth0');
    assert.ok(failure, `seed ${seed}: eth0 never failed`);
    assert.equal(failure.output.cause, 'probe');
    assert.ok(failure.at - t0 <= FDT, `seed ${seed}: failed ${failure.at - t0} ms after the cut`);
    const lost = sim.events('probe_lost', t0).filter((e) => e.output.ifname === 'eth0' && e.at <= failure.at);
    assert.ok(lost.length >= NUM_PROBE_FAILS, `seed ${seed}: failed after ${lost.length} lost probes`);
    assert.ok(lost.every((e) => e.output.method === 'arp'));
    const move = sim.events('move_address', t0)[0];
    assert.deepEqual([move?.at, move?.output.to], [failure.at, 'eth1'], `seed ${seed}: not moved at the failure`);
    const repair = sim.events('interface_repaired', restored).find((e) => e.output.ifname === 'eth0');
    assert.ok(repair, `seed ${seed}: never repaired`);
    const acks = sim.events('probe_acked', restored).filter((e) => e.output.ifname === 'eth0' && e.at <= repair.at);
    assert.ok(acks.length >= NUM_PROBE_REPAIRS, `seed ${seed}: repaired after ${acks.length} answers`);
    assert.deepEqual(sim.holderOf(DATA), ['eth0'], `seed ${seed}: no failback`);
  }
});

test('silent failure of either NIC: the holder fails over, the other fails alone (ARP)', () => {
  const sim = new Sim(arpConfig({ failureDetectionTimeMs: 1000 }), { seed: 9 });
  sim.runFor(5000);
  let t0 = sim.now;
  sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
  sim.runFor(2000);
  const move = sim.events('move_address', t0)[0];
  assert.ok(move);
  assert.deepEqual([move.output.from, move.output.to, move.output.reason], ['eth0', 'eth1', 'probe']);
  assert.ok(move.at - t0 <= 1000, `moved ${move.at - t0} ms after the cut`);
  sim.rtt = () => 0.2;
  sim.runFor(5000);
  assert.deepEqual(sim.holderOf(DATA), ['eth0']);
  t0 = sim.now;
  sim.rtt = (ifname) => (ifname === 'eth1' ? undefined : 0.2);
  sim.runFor(2000);
  const failure = sim.events('interface_failed', t0)[0];
  assert.deepEqual([failure?.output.ifname, failure?.output.cause], ['eth1', 'probe']);
  assert.ok(failure!.at - t0 <= 1000);
  assert.equal(sim.events('move_address', t0).length, 0);
  assert.deepEqual(sim.holderOf(DATA), ['eth0']);
});

test('targets: gateways only in the data subnets; without one, hosts the neighbour table knows there', () => {
  const sim = new Sim(arpConfig(), { seed: 2, routes: [defaultRoute('198.19.1.1')] });
  sim.multicastResponders = () => ['198.18.11.21', '198.19.1.9', '198.18.11.22'];
  sim.runFor(60_000);
  const discovery = probes(sim).filter((p) => p.probeKind === 'multi');
  assert.ok(discovery.length > 0, 'never looked for hosts');
  assert.ok(discovery.every((p) => p.method === 'arp' && p.target === '0.0.0.0'));
  for (const nic of ['eth0', 'eth1']) {
    const targets = sim.iface(nic).instances[0]!.targets.map((t) => [t.address, t.source]);
    assert.deepEqual(targets, [
      ['198.18.11.21', 'multicast'],
      ['198.18.11.22', 'multicast'],
    ]);
  }
  assert.ok(!probes(sim).some((p) => p.target === '198.19.1.1' || p.target === '198.19.1.9'));
  // a router in the data subnet appears: it replaces the hosts, as in.mpathd's routers do
  sim.routes = [defaultRoute('198.18.11.1')];
  sim.engine.reportRoutes(sim.now, sim.routes);
  sim.drain();
  assert.deepEqual(
    sim.iface('eth1').instances[0]!.targets.map((t) => t.address),
    ['198.18.11.1'],
  );
});

test('IPv6 members keep ICMPv6 from their link-local test address; no IPv4 subnet means no ARP instance', () => {
  const withV6 = arpConfig(
    {},
    {
      interfaces: [
        { name: 'eth0', testAddresses: [cidr('fe80::6/64')], standby: false },
        { name: 'eth1', testAddresses: [cidr('fe80::7/64')], standby: false },
      ],
    },
  );
  const sim = new Sim(withV6, {
    seed: 5,
    routes: [
      defaultRoute('198.18.11.1'),
      { family: 6, prefixLength: 0, gateway: 'fe80::1', device: 'eth0' },
      { family: 6, prefixLength: 0, gateway: 'fe80::1', device: 'eth1' },
    ],
  });
  sim.runFor(30_000);
  assert.deepEqual(
    sim.iface('eth0').instances.map((i) => [i.family, i.method, i.testAddress]),
    [
      [4, 'arp', undefined],
      [6, 'icmp', 'fe80::6'],
    ],
  );
  const v6 = probes(sim).filter((p) => p.family === 6 && p.probeKind === 'uni');
  assert.ok(v6.length > 0 && v6.every((p) => p.method === 'icmp' && p.source.startsWith('fe80::')));

  const v6Only = arpConfig(
    {},
    {
      interfaces: withV6.groups[0]!.interfaces,
      dataAddresses: [{ address: cidr('2001:db8:11::5/64'), preferredInterface: 'eth0' }],
    },
  );
  const only = new Sim(v6Only, { seed: 5 });
  assert.deepEqual(
    only.iface('eth0').instances.map((i) => [i.family, i.method]),
    [[6, 'icmp']],
  );
});

test('a reload keeps an unchanged ARP member, and starts afresh one whose probe method changed', () => {
  const sim = new Sim(arpConfig(), { seed: 3 });
  sim.runFor(60_000);
  sim.reload(arpConfig());
  assert.deepEqual([...sim.engine.carriedInterfaces].sort(), ['eth0', 'eth1']);
  sim.reload(twoNicConfig());
  assert.deepEqual([...sim.engine.carriedInterfaces], []);
  assert.deepEqual(
    sim.iface('eth0').instances.map((i) => [i.method, i.testAddress]),
    [['icmp', '198.18.11.6']],
  );
});
