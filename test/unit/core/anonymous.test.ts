// in.mpathd's anonymous group: NICs in no group are watched, never managed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../../src/core/engine.js';
import { cidr, Sim, twoNicConfig } from './sim.js';

const FDT = 10_000;
const watched = [{ name: 'eth2', sources: [cidr('198.18.11.9/24')] }];

/** The seed group plus eth2, in no group, watched from its own address 198.18.11.9. */
function simWithEth2(seed = 3): Sim {
  const sim = new Sim(twoNicConfig({ trackInterfacesOnlyWithGroups: false }), { seed });
  sim.links.set('eth2', true);
  sim.engine.setAnonymousMembers(sim.now, watched);
  sim.engine.reportLinks(sim.now, [{ ifname: 'eth2', present: true, up: true }]);
  sim.drain();
  sim.runFor(60_000);
  return sim;
}

test('an anonymous NIC probes from its own address and finds the same targets', () => {
  const sim = simWithEth2();
  const probes = sim.events('send_probe').filter((e) => e.output.ifname === 'eth2');
  assert.ok(probes.length > 20, `only ${probes.length} probes from eth2`);
  assert.ok(probes.every((p) => p.output.source === '198.18.11.9' && p.output.group === 'anonymous'));
  const g = sim.group('anonymous');
  assert.equal(g.anonymous, true);
  assert.equal(g.state, 'ok');
  assert.deepEqual(g.addresses, []);
  assert.equal(sim.iface('eth2').state, 'ok');
  assert.equal(sim.iface('eth2').probeState, 'ok');
  assert.deepEqual(
    sim.iface('eth2').instances[0]!.targets.map((t) => t.address),
    ['198.18.11.1'],
  );
});

test('silent cut of an anonymous NIC: failed by probes within FDT, group still ok, nothing moves', () => {
  const sim = simWithEth2();
  const t0 = sim.now;
  sim.rtt = (ifname) => (ifname === 'eth2' ? undefined : 0.2);
  sim.runFor(3 * FDT);
  const failure = sim.events('interface_failed', t0).find((e) => e.output.ifname === 'eth2');
  assert.ok(failure, 'eth2 never failed');
  assert.equal(failure.output.cause, 'probe');
  assert.equal(failure.output.group, 'anonymous');
  assert.ok(failure.at - t0 <= FDT, `failed after ${failure.at - t0} ms`);
  assert.equal(sim.iface('eth2').state, 'failed');
  assert.equal(sim.group('anonymous').state, 'ok');
  assert.deepEqual(sim.events('group_state', t0), []);
  assert.deepEqual(sim.events('move_address', t0), []);
  assert.deepEqual(sim.events('remove_address', t0), []);
  // and back: ten answers repair it
  const t1 = sim.now;
  sim.rtt = () => 0.2;
  sim.runFor(3 * FDT);
  assert.ok(sim.events('interface_repaired', t1).some((e) => e.output.ifname === 'eth2'));
  assert.equal(sim.iface('eth2').state, 'ok');
});

test('the only anonymous NIC losing its link is an interface failure, never a group failure', () => {
  const sim = simWithEth2();
  const t0 = sim.now;
  sim.setLink('eth2', false);
  const failure = sim.events('interface_failed', t0).find((e) => e.output.ifname === 'eth2');
  assert.equal(failure?.output.cause, 'link');
  assert.deepEqual(sim.events('group_failed', t0), []);
  assert.equal(sim.group('anonymous').state, 'ok');
  assert.equal(sim.group().state, 'ok');
});

test('offline is refused for an anonymous NIC', () => {
  const sim = simWithEth2();
  const r = sim.engine.offline(sim.now, 'eth2');
  assert.equal(r.ok, false);
  assert.equal(sim.iface('eth2').state, 'ok');
});

test('a reload carries an unchanged anonymous NIC over; a changed source or a NIC gone leaves', () => {
  const sim = simWithEth2();
  sim.setLink('eth2', false);
  sim.setLink('eth2', true);
  const before = sim.iface('eth2');
  assert.equal(before.failures.link, 1);
  const engine = new Engine({ config: sim.config, now: sim.now, previous: sim.engine, anonymous: watched });
  assert.ok(engine.carriedInterfaces.has('eth2'));
  const carried = engine.snapshot().groups.find((g) => g.anonymous)!.interfaces[0]!;
  assert.equal(carried.failures.link, 1);
  assert.deepEqual(
    carried.instances[0]!.targets.map((t) => t.address),
    ['198.18.11.1'],
  );

  // another source: a new member, its old targets reported gone
  engine.setAnonymousMembers(sim.now, [{ name: 'eth2', sources: [cidr('198.18.11.10/24')] }]);
  const out = engine.takeOutputs();
  assert.ok(out.some((o) => o.kind === 'target_removed' && o.ifname === 'eth2'));
  const fresh = engine.snapshot().groups.find((g) => g.anonymous)!.interfaces[0]!;
  assert.equal(fresh.failures.link, 0);
  assert.equal(fresh.instances[0]!.testAddress, '198.18.11.10');

  // gone: the anonymous group disappears from the snapshot
  engine.setAnonymousMembers(sim.now, []);
  assert.equal(
    engine.snapshot().groups.some((g) => g.anonymous),
    false,
  );
  assert.deepEqual(engine.anonymousMembers(), []);
});

test('a configured member is never anonymous', () => {
  const sim = simWithEth2();
  sim.engine.setAnonymousMembers(sim.now, [...watched, { name: 'eth0', sources: [cidr('198.18.11.6/24')] }]);
  assert.deepEqual(
    sim.engine.anonymousMembers().map((m) => m.name),
    ['eth2'],
  );
  assert.equal(sim.iface('eth0').group, 'unrealgrp1');
});
