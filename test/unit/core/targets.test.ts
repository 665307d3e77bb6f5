import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TargetList } from '../../../src/core/targets.js';
import { hostRoute, Sim, twoNicConfig } from './sim.js';

const activeTargets = (sim: Sim, ifname: string) =>
  sim
    .iface(ifname)
    .instances[0]!.targets.filter((t) => t.status === 'active')
    .map((t) => t.address);

test('one dead target of three is retired without failing the interface', () => {
  const routes = ['198.18.11.21', '198.18.11.22', '198.18.11.23'].map((a) => hostRoute(a));
  const sim = new Sim(twoNicConfig(), { seed: 12, routes });
  sim.runFor(20_000);
  assert.deepEqual(activeTargets(sim, 'eth0'), ['198.18.11.21', '198.18.11.22', '198.18.11.23']);
  const t0 = sim.now;
  sim.rtt = (_i, target) => (target === '198.18.11.22' ? undefined : 0.2);
  sim.runFor(60_000);
  assert.equal(sim.events('interface_failed', t0).length, 0);
  assert.equal(sim.iface('eth0').state, 'ok');
  assert.deepEqual(activeTargets(sim, 'eth0'), ['198.18.11.21', '198.18.11.23']);
  assert.ok(
    sim.events('target_status', t0).some((e) => e.output.target === '198.18.11.22' && e.output.status === 'dead'),
  );
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
});

test('a dead target is replaced by a spare from the routing table', () => {
  const routes = ['21', '22', '23', '24', '25', '26'].map((h) => hostRoute(`198.18.11.${h}`));
  const sim = new Sim(twoNicConfig(), { seed: 13, routes });
  sim.runFor(20_000);
  assert.deepEqual(activeTargets(sim, 'eth0'), [
    '198.18.11.21',
    '198.18.11.22',
    '198.18.11.23',
    '198.18.11.24',
    '198.18.11.25',
  ]);
  sim.rtt = (_i, target) => (target === '198.18.11.23' ? undefined : 0.2);
  sim.runFor(60_000);
  assert.equal(sim.events('interface_failed').length, 0);
  assert.deepEqual(activeTargets(sim, 'eth0').sort(), [
    '198.18.11.21',
    '198.18.11.22',
    '198.18.11.24',
    '198.18.11.25',
    '198.18.11.26',
  ]);
});

test('a dead router target is probed again 60 to 75 s after it was declared dead, as in.mpathd does (not after 60 s twice)', () => {
  // in.mpathd: a target marked TG_DEAD keeps the last-action time of its last
  // slow spell (none for a target that never was slow), so the next
  // target_next() pass makes it TG_SLOW at once, and MIN_RECOVERY_TIME later
  // it is usable again and probed.
  const silent = '198.18.11.22';
  const delays: number[] = [];
  for (const seed of [31, 32, 33, 34, 35, 36, 37, 38]) {
    const routes = ['198.18.11.21', silent, '198.18.11.23'].map((a) => hostRoute(a));
    const sim = new Sim(twoNicConfig(), { seed, routes });
    sim.runFor(20_000);
    const t0 = sim.now;
    sim.rtt = (_i, target) => (target === silent ? undefined : 0.2);
    sim.runFor(200_000);
    const dead = sim
      .events('target_status', t0)
      .find((e) => e.output.ifname === 'eth0' && e.output.target === silent && e.output.status === 'dead');
    assert.ok(dead, `seed ${seed}: ${silent} was never declared dead`);
    const again = sim
      .events('send_probe', dead.at)
      .find((e) => e.output.ifname === 'eth0' && e.output.target === silent && e.output.probeKind === 'uni');
    assert.ok(again, `seed ${seed}: ${silent} was never probed again`);
    delays.push(again.at - dead.at);
  }
  for (const [i, d] of delays.entries())
    assert.ok(
      d >= 60_000 && d <= 75_000,
      `seed ${31 + i}: probed again ${(d / 1000).toFixed(1)} s after it was declared dead (all: ${delays.map((x) => (x / 1000).toFixed(1)).join(', ')} s)`,
    );
});

test('a router target that was slow shortly before it died waits out that slow spell, then 60 s more (in.mpathd tg_latime); it is reported dead throughout', () => {
  const target = new TargetList();
  for (const a of ['198.18.11.21', '198.18.11.22', '198.18.11.23']) target.add({ address: a, source: 'route' }, 0);
  const t = target.find('198.18.11.22')!;
  target.setStatus(t, 'slow', 0);
  target.recover(61_000); // slow -> unused -> active
  assert.equal(t.status, 'active');
  target.setStatus(t, 'dead', 70_000);
  target.recover(71_000); // its last slow spell began at 0, more than 60 s ago: its rest begins now
  assert.deepEqual([t.status, t.resting], ['dead', true]);
  target.recover(130_000);
  assert.equal(t.status, 'dead');
  target.recover(131_001);
  assert.equal(t.status, 'active');
  // slow again at 140 s, dead at 150 s: dead stays dead until 60 s after 140 s
  target.setStatus(t, 'slow', 140_000);
  target.setStatus(t, 'dead', 150_000);
  target.recover(199_000);
  assert.deepEqual([t.status, t.resting], ['dead', false]);
  target.recover(200_001);
  assert.deepEqual([t.status, t.resting], ['dead', true]);
  target.recover(260_000);
  assert.equal(t.status, 'dead');
  target.recover(260_002);
  assert.equal(t.status, 'active');
});

test('a dead multicast-found host is deleted and another host is found', () => {
  const sim = new Sim(twoNicConfig(), { seed: 14, routes: [] });
  sim.multicastResponders = () => ['198.18.11.31', '198.18.11.32', '198.18.11.33'];
  sim.runFor(20_000);
  assert.deepEqual(activeTargets(sim, 'eth0').sort(), ['198.18.11.31', '198.18.11.32', '198.18.11.33']);
  assert.equal(sim.iface('eth0').instances[0]!.mode, 'multicast');
  sim.rtt = (_i, target) => (target === '198.18.11.32' ? undefined : 0.2);
  sim.multicastResponders = () => ['198.18.11.31', '198.18.11.33', '198.18.11.34'];
  sim.runFor(60_000);
  assert.equal(sim.events('interface_failed').length, 0);
  assert.deepEqual(activeTargets(sim, 'eth0').sort(), ['198.18.11.31', '198.18.11.33', '198.18.11.34']);
});

test('no router: multicast discovery keeps the first five responders, shared by the group', () => {
  const sim = new Sim(twoNicConfig(), { seed: 15, routes: [] });
  sim.multicastResponders = (ifname) =>
    ifname === 'eth0'
      ? ['198.18.11.41', '198.18.11.42', '198.18.11.43', '198.18.11.44', '198.18.11.45', '198.18.11.46', '198.18.11.6']
      : [];
  sim.runFor(30_000);
  const eth0 = activeTargets(sim, 'eth0');
  assert.equal(eth0.length, 5);
  assert.ok(!eth0.includes('198.18.11.6'), 'our own address became a target');
  assert.deepEqual(
    activeTargets(sim, 'eth1').sort(),
    [...eth0].sort(),
    'targets were not shared with the other member',
  );
});

test('routes: host routes first, then default routers, at most five active; route changes apply at run time', () => {
  const nine = ['110', '120', '130', '140', '150', '160', '170', '180', '190'].map((h) => hostRoute(`198.18.11.${h}`));
  const sim = new Sim(twoNicConfig(), {
    seed: 16,
    routes: [{ family: 4, prefixLength: 0, gateway: '198.18.11.1' }, ...nine],
  });
  assert.deepEqual(activeTargets(sim, 'eth0'), [
    '198.18.11.110',
    '198.18.11.120',
    '198.18.11.130',
    '198.18.11.140',
    '198.18.11.150',
  ]);
  sim.engine.reportRoutes(sim.now, [{ family: 4, prefixLength: 0, gateway: '198.18.11.1' }, ...nine.slice(0, 2)]);
  sim.drain();
  assert.deepEqual(activeTargets(sim, 'eth0'), ['198.18.11.110', '198.18.11.120', '198.18.11.1']);
  assert.equal(
    sim.iface('eth0').instances[0]!.targets.find((t) => t.address === '198.18.11.1')!.source,
    'default_router',
  );
});

test('static targets are used as configured, routes ignored', () => {
  const sim = new Sim(twoNicConfig({}, { probeTargets: ['198.18.11.61', '198.18.11.62'] }), { seed: 17 });
  sim.runFor(10_000);
  assert.deepEqual(activeTargets(sim, 'eth0'), ['198.18.11.61', '198.18.11.62']);
  assert.equal(sim.iface('eth0').instances[0]!.mode, 'static');
  const probed = new Set(
    sim
      .events('send_probe')
      .filter((e) => e.output.probeKind === 'uni')
      .map((e) => e.output.target),
  );
  assert.deepEqual([...probed].sort(), ['198.18.11.61', '198.18.11.62']);
});

test('FDT is raised when targets answer slower than the probe interval, and lowered after settling', () => {
  const sim = new Sim(twoNicConfig({ failureDetectionTimeMs: 1000 }), { seed: 18 });
  sim.runFor(5000);
  assert.equal(sim.group().fdtMs, 1000);
  const t0 = sim.now;
  sim.rtt = () => 120; // crtt = avg + 4 dev soon exceeds the 142 ms probe interval
  sim.runFor(20_000);
  const raised = sim.events('fdt_raised', t0);
  assert.ok(raised.length >= 1, 'FDT was never raised');
  assert.ok(sim.group().fdtMs > 1000);
  assert.equal(sim.group().probeIntervalMs * 7, sim.group().fdtMs);
  assert.equal(sim.events('interface_failed').length, 0);
  // RTT probes keep measuring between the (now rarer) failure-detection probes
  assert.ok(
    sim.events('send_probe', t0).some((e) => e.output.probeKind === 'rtt'),
    'no RTT-only probes while raised',
  );
  const t1 = sim.now;
  sim.rtt = () => 0.2;
  sim.runFor(350_000);
  const lastRaise = sim.events('fdt_raised').at(-1)!.at;
  const lowered = sim.events('fdt_lowered', t1);
  assert.ok(lowered.length >= 1, 'FDT was never lowered');
  assert.ok(
    lowered[0]!.at > lastRaise + 60_000,
    `lowered ${lowered[0]!.at - lastRaise} ms after the last raise, before the 60 s settling time`,
  );
  assert.equal(sim.group().fdtMs, 1000);
  assert.equal(sim.group().probeIntervalMs, Math.floor(1000 / 7));
  assert.equal(sim.events('interface_failed').length, 0);
});

test('probe schedule: one probe per FDT/7 on average, each 0.5 to 1.5 intervals after the previous', () => {
  const sim = new Sim(twoNicConfig(), { seed: 19 });
  sim.runFor(600_000);
  const times = sim
    .events('send_probe')
    .filter((e) => e.output.ifname === 'eth0' && e.output.probeKind === 'uni')
    .map((e) => e.at);
  const upi = Math.floor(10_000 / 7);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  for (const g of gaps) {
    assert.ok(g >= 0.5 * upi - 1e-6 && g <= 1.5 * upi + 1e-6, `gap ${g}`);
  }
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  assert.ok(Math.abs(mean - upi) < 0.02 * upi, `mean gap ${mean} vs ${upi}`);
  assert.ok(Math.min(...gaps) < 0.6 * upi && Math.max(...gaps) > 1.4 * upi, 'send times are not randomised');
});

test('routes arriving one by one still end in preference order: host routes before the default router', () => {
  const sim = new Sim(twoNicConfig(), { seed: 20, routes: [] });
  sim.multicastResponders = () => ['198.18.11.1'];
  sim.runFor(5000);
  // found by multicast first, the router is a host target...
  assert.equal(sim.iface('eth0').instances[0]!.targets[0]!.source, 'multicast');
  // ...until the routing table names it: then it is a router, and host routes come first
  sim.engine.reportRoutes(sim.now, [{ family: 4, prefixLength: 0, gateway: '198.18.11.1' }]);
  sim.engine.reportRoutes(sim.now, [
    { family: 4, prefixLength: 0, gateway: '198.18.11.1' },
    ...['110', '120', '130', '140', '150', '160'].map((h) => hostRoute(`198.18.11.${h}`)),
  ]);
  sim.drain();
  assert.deepEqual(activeTargets(sim, 'eth0'), [
    '198.18.11.110',
    '198.18.11.120',
    '198.18.11.130',
    '198.18.11.140',
    '198.18.11.150',
  ]);
  const router = sim.iface('eth0').instances[0]!.targets.find((t) => t.address === '198.18.11.1')!;
  assert.deepEqual([router.source, router.status], ['default_router', 'unused']);
});

test('no router: discovery goes on while fewer than five hosts answer, and stops at five', () => {
  const sim = new Sim(twoNicConfig(), { seed: 21, routes: [] });
  sim.multicastResponders = () => ['198.18.11.41', '198.18.11.42'];
  sim.runFor(10_000);
  assert.equal(activeTargets(sim, 'eth0').length, 2);
  // three more hosts come up later: found without a restart
  sim.multicastResponders = () => [
    '198.18.11.41',
    '198.18.11.42',
    '198.18.11.43',
    '198.18.11.44',
    '198.18.11.45',
    '198.18.11.46',
  ];
  sim.runFor(10_000);
  assert.equal(activeTargets(sim, 'eth0').length, 5);
  const t0 = sim.now;
  sim.runFor(10_000);
  assert.equal(
    sim.events('send_probe', t0).filter((e) => e.output.probeKind === 'multi').length,
    0,
    'still multicasting with five targets',
  );
});
