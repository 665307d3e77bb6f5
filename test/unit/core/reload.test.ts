// A reload keeps what did not change: probe history, RTT estimates, a raised
// FDT, targets (found ones too), counters, placement. A reload of the same
// file changes nothing a user could see.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../../src/core/engine.js';
import type { EngineSnapshot } from '../../../src/core/snapshot.js';
import { cidr, seededRandom, Sim, twoNicConfig } from './sim.js';

const FDT = 10_000;

/** The snapshot without its timestamp: what the status API and the metrics show. */
function picture(s: EngineSnapshot): EngineSnapshot['groups'] {
  return s.groups;
}

/** Outputs other than probing itself, since `since`. */
function stateEvents(sim: Sim, since: number) {
  return sim.log.filter((e) => e.at >= since && !['send_probe', 'probe_acked'].includes(e.output.kind));
}

test('a reload of an identical configuration changes nothing observable (50 seeds)', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const sim = new Sim(twoNicConfig(), { seed });
    sim.runFor(60_000 + seed * 37);
    const before = picture(sim.engine.snapshot());
    const logged = sim.log.length;
    sim.reload(twoNicConfig()); // a new object with the same content, as a re-read file gives
    assert.deepEqual(sim.log.slice(logged), [], `seed ${seed}: the reload itself said something`);
    assert.deepEqual(picture(sim.engine.snapshot()), before, `seed ${seed}: the reload changed the state`);
    assert.deepEqual([...sim.engine.carriedInterfaces].sort(), ['eth0', 'eth1']);
    const t0 = sim.now;
    sim.runFor(60_000);
    assert.deepEqual(stateEvents(sim, t0), [], `seed ${seed}: events after the reload`);
    const requestsBefore = before[0]!.interfaces[0]!.instances[0]!.targets[0]!.requests;
    const requestsAfter = sim.iface('eth0').instances[0]!.targets[0]!.requests;
    assert.ok(
      requestsAfter > requestsBefore,
      `seed ${seed}: probe counter went from ${requestsBefore} to ${requestsAfter}`,
    );
  }
});

test('probe history survives a reload: losses before it count towards the failure (100 seeds)', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const sim = new Sim(twoNicConfig(), { seed });
    sim.runFor(60_000);
    const t0 = sim.now;
    sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
    sim.runFor(FDT / 2); // about half of the losses needed
    assert.ok(sim.events('probe_lost', t0).length >= 2, `seed ${seed}: too few losses before the reload`);
    sim.reload(twoNicConfig());
    sim.runFor(2 * FDT);
    const failure = sim.events('interface_failed', t0).find((e) => e.output.ifname === 'eth0');
    assert.ok(failure, `seed ${seed}: eth0 never failed`);
    assert.ok(
      failure.at - t0 <= FDT,
      `seed ${seed}: failed ${failure.at - t0} ms after the cut: the reload reset the probe history`,
    );
    assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  }
});

test('a failed interface stays failed and the address stays where it is', () => {
  const sim = new Sim(twoNicConfig(), { seed: 5 });
  sim.runFor(30_000);
  sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
  sim.runFor(2 * FDT);
  assert.equal(sim.iface('eth0').state, 'failed');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  const t0 = sim.now;
  sim.reload(twoNicConfig());
  sim.runFor(30_000);
  assert.deepEqual(
    stateEvents(sim, t0).filter((e) => e.output.kind !== 'probe_lost'),
    [],
  );
  assert.equal(sim.iface('eth0').state, 'failed');
  assert.equal(sim.iface('eth0').failureCause, 'probe');
  assert.equal(sim.group().state, 'degraded');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  // and it is repaired as usual, the address returning home
  const t1 = sim.now;
  sim.rtt = () => 0.2;
  sim.runFor(30_000);
  assert.ok(sim.events('interface_repaired', t1).some((e) => e.output.ifname === 'eth0'));
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
});

test('a raised FDT stays raised over a reload; a new configured FDT replaces it', () => {
  const sim = new Sim(twoNicConfig({ failureDetectionTimeMs: 1000 }), { seed: 18 });
  sim.runFor(5000);
  sim.rtt = () => 120;
  sim.runFor(20_000);
  const raised = sim.group().fdtMs;
  assert.ok(raised > 1000, 'FDT was never raised');
  const t0 = sim.now;
  sim.reload(twoNicConfig({ failureDetectionTimeMs: 1000 }));
  assert.equal(sim.group().fdtMs, raised);
  assert.equal(sim.group().probeIntervalMs * 7, raised);
  assert.equal(sim.events('fdt_lowered', t0).length, 0);
  sim.reload(twoNicConfig({ failureDetectionTimeMs: 2000 }));
  assert.equal(sim.group().fdtMs, 2000);
  assert.equal(sim.group().configuredFdtMs, 2000);
  assert.equal(sim.group().probeIntervalMs, Math.floor(2000 / 7));
  // the members themselves carried over: their RTT estimates are still there
  assert.ok(sim.iface('eth0').instances[0]!.targets[0]!.rttAverageMs > 50);
});

test('targets found by multicast are kept over a reload', () => {
  const sim = new Sim(twoNicConfig(), { seed: 9, routes: [] });
  sim.multicastResponders = () => ['198.18.11.31', '198.18.11.32'];
  sim.runFor(30_000);
  const found = sim.iface('eth0').instances[0]!.targets.map((t) => `${t.address}/${t.source}`);
  assert.deepEqual(found.sort(), ['198.18.11.31/multicast', '198.18.11.32/multicast']);
  const t0 = sim.now;
  sim.multicastResponders = () => []; // nobody would answer a new search
  sim.reload(twoNicConfig());
  sim.runFor(30_000);
  assert.deepEqual(sim.events('target_added', t0), []);
  assert.deepEqual(sim.events('target_removed', t0), []);
  assert.deepEqual(
    sim
      .iface('eth0')
      .instances[0]!.targets.map((t) => `${t.address}/${t.source}`)
      .sort(),
    found.sort(),
  );
  assert.equal(sim.iface('eth0').state, 'ok');
});

test('what changed starts afresh, the rest carries on, and no address moves', () => {
  const sim = new Sim(twoNicConfig(), { seed: 11 });
  sim.runFor(60_000);
  const eth0Requests = sim.iface('eth0').instances[0]!.targets[0]!.requests;
  const t0 = sim.now;
  const changed = twoNicConfig();
  const group = changed.groups[0]!;
  group.interfaces[1]!.testAddresses = [cidr('198.18.11.8/24')]; // eth1: new test address
  group.interfaces.push({ name: 'eth2', testAddresses: [cidr('198.18.11.9/24')], standby: false });
  group.dataAddresses.push({ address: cidr('198.18.11.15/24') });
  sim.reload(changed);
  assert.deepEqual([...sim.engine.carriedInterfaces], ['eth0']);
  assert.equal(sim.iface('eth1').instances[0]!.testAddress, '198.18.11.8');
  assert.equal(sim.iface('eth1').instances[0]!.targets[0]?.requests ?? 0, 0);
  sim.runFor(60_000);
  assert.ok(sim.iface('eth0').instances[0]!.targets[0]!.requests > eth0Requests);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  const moves = sim.events('move_address', t0).map((e) => e.output.address.address);
  assert.deepEqual(moves, ['198.18.11.15'], 'only the new address is placed');
  assert.deepEqual(sim.events('group_state', t0), []);
  assert.equal(sim.group().state, 'ok');
  assert.equal(sim.iface('eth2').state, 'ok');
  // the changed member's old targets went (its per-target series restart), the kept one's did not
  const targetEvents = (kind: string, since: number) =>
    sim.log.flatMap((e) =>
      e.at >= since && e.output.kind === kind && 'target' in e.output ? [`${e.output.ifname} ${e.output.target}`] : [],
    );
  const removed = (since: number) => targetEvents('target_removed', since);
  assert.deepEqual(removed(t0), ['eth1 198.18.11.1']);
  assert.deepEqual(targetEvents('target_added', t0).sort(), ['eth1 198.18.11.1', 'eth2 198.18.11.1']);
  // a member removed by the next reload is gone, with its targets; the others carry on
  const t1 = sim.now;
  sim.reload(twoNicConfig());
  assert.deepEqual(
    sim.group().interfaces.map((i) => i.name),
    ['eth0', 'eth1'],
  );
  assert.deepEqual([...sim.engine.carriedInterfaces], ['eth0']); // eth1's test address changed back
  assert.deepEqual(removed(t1).sort(), ['eth1 198.18.11.1', 'eth2 198.18.11.1']);
});

test('a move in flight during a reload completes on the new engine, not twice', () => {
  const config = twoNicConfig();
  const links = ['eth0', 'eth1'].map((ifname) => ({ ifname, present: true, up: true }));
  const old = new Engine({ config, now: 0, random: seededRandom(1) });
  old.start(0, { links, routes: [], addressHolders: new Map() }); // the address is nowhere: placed on eth0
  const moves = old.takeOutputs().filter((o) => o.kind === 'move_address');
  assert.equal(moves.length, 1);
  const next = new Engine({ config: twoNicConfig(), now: 10, previous: old });
  next.start(10, { links, routes: [], addressHolders: new Map() }); // the kernel has not got it yet
  assert.deepEqual(
    next.takeOutputs().filter((o) => o.kind === 'move_address' || o.kind === 'remove_address'),
    [],
  );
  assert.equal(next.snapshot().groups[0]!.addresses[0]!.moving, true);
  next.moveCompleted(20, '198.18.11.5');
  next.observeAddresses(20, new Map([['198.18.11.5', ['eth0']]]));
  assert.deepEqual(
    next.takeOutputs().filter((o) => o.kind === 'move_address'),
    [],
  );
  assert.equal(next.snapshot().groups[0]!.addresses[0]!.holder, 'eth0');
});
