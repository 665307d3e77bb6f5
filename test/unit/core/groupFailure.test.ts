// Group failure versus "every target lost": NICs that die one after
// the other fail the group and page; only a loss of every target by every healthy
// member within one detection window is taken for the targets' failure
// (`on_all_targets_lost: rediscover`).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidr, Sim, twoNicConfig } from './sim.js';

const FDT = 10_000;
const SEEDS = 40;

/** eth0 falls silent at t0, eth1 `spacing` ms later; the router stays up for nobody. */
function sequentialSilence(seed: number, spacing: number): { sim: Sim; t0: number; t1: number } {
  const sim = new Sim(twoNicConfig(), { seed });
  sim.runFor(60_000); // past the start-up quiet period
  const t0 = sim.now + ((seed * 7919) % 3000); // an arbitrary phase of the probe schedule
  sim.runUntil(t0);
  sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
  sim.runUntil(t0 + spacing);
  const t1 = sim.now;
  sim.rtt = () => undefined;
  sim.runFor(3 * FDT);
  return { sim, t0, t1 };
}

for (const [label, spacing] of [
  ['half an FDT', FDT / 2],
  ['one FDT', FDT],
  ['three FDTs', 3 * FDT],
  ['three minutes', 180_000],
] as const) {
  test(`NICs silenced one after the other, ${label} apart: the group fails (${SEEDS} seeds)`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { sim, t0, t1 } = sequentialSilence(seed, spacing);
      const why = `seed ${seed}, ${label}`;
      assert.equal(sim.events('targets_unreachable', t0).length, 0, `${why}: taken for every target lost`);
      assert.equal(sim.group().targetsUnreachable, false, why);
      const failed = sim.events('interface_failed', t0).map((e) => e.output.ifname);
      assert.equal(failed[0], 'eth0', `${why}: eth0 did not fail first (${failed.join(',')})`);
      const groupFailed = sim.events('group_failed', t0);
      assert.equal(groupFailed.length, 1, `${why}: group_failed ${groupFailed.length} times`);
      assert.equal(groupFailed[0]!.output.cause, 'probe', why);
      assert.ok(
        groupFailed[0]!.at - t1 <= FDT,
        `${why}: group failed ${groupFailed[0]!.at - t1} ms after the second NIC died`,
      );
      assert.equal(sim.group().state, 'failed', why);
      assert.equal(sim.iface('eth0').state, 'failed', why);
      assert.equal(sim.iface('eth1').state, 'failed', why);
      // the address went to eth1 when eth0 failed and stays there: there is nowhere better
      assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1'], why);
    }
  });
}

test('every member loses the only router at once: targets unreachable, rediscovery, no group failure (100 seeds)', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const sim = new Sim(twoNicConfig(), { seed });
    sim.runFor(60_000);
    const t0 = sim.now + ((seed * 7919) % 3000);
    sim.runUntil(t0);
    sim.rtt = () => undefined;
    sim.runFor(3 * FDT);
    const why = `seed ${seed}`;
    assert.equal(sim.events('targets_unreachable', t0).length, 1, why);
    assert.equal(sim.events('group_failed', t0).length, 0, why);
    assert.equal(sim.events('interface_failed', t0).length, 0, why);
    assert.notEqual(sim.group().state, 'failed', why);
    assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0'], why);
  }
});

test('a member failed by carrier, then the other silent: the group fails (40 seeds)', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const sim = new Sim(twoNicConfig(), { seed });
    sim.runFor(60_000);
    const t0 = sim.now;
    sim.setLink('eth1', false);
    sim.runFor(2 * FDT + ((seed * 7919) % 3000));
    const t1 = sim.now;
    sim.rtt = () => undefined;
    sim.runFor(2 * FDT);
    const why = `seed ${seed}`;
    assert.equal(sim.events('targets_unreachable', t0).length, 0, why);
    const groupFailed = sim.events('group_failed', t1);
    assert.equal(groupFailed.length, 1, why);
    assert.equal(groupFailed[0]!.output.cause, 'probe', why);
    assert.ok(groupFailed[0]!.at - t1 <= FDT, `${why}: after ${groupFailed[0]!.at - t1} ms`);
    assert.equal(sim.group().state, 'failed', why);
    assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0'], why);
  }
});

test('a member failed by probes, then the other loses carrier: the group fails at once', () => {
  const sim = new Sim(twoNicConfig(), { seed: 3 });
  sim.runFor(60_000);
  const t0 = sim.now;
  sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
  sim.runFor(2 * FDT);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  const t1 = sim.now;
  sim.setLink('eth1', false);
  const groupFailed = sim.events('group_failed', t1);
  assert.equal(groupFailed.length, 1);
  assert.equal(groupFailed[0]!.at, t1);
  assert.equal(sim.events('targets_unreachable', t0).length, 0);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
});

test('three NICs: the second silent NIC is an interface failure while the third answers, the third one fails the group', () => {
  const config = twoNicConfig(
    {},
    {
      interfaces: [
        { name: 'eth0', testAddresses: [cidr('198.18.11.6/24')], standby: false },
        { name: 'eth1', testAddresses: [cidr('198.18.11.7/24')], standby: false },
        { name: 'eth2', testAddresses: [cidr('198.18.11.8/24')], standby: false },
      ],
    },
  );
  for (let seed = 1; seed <= 20; seed++) {
    const sim = new Sim(config, { seed });
    sim.runFor(60_000);
    const t0 = sim.now;
    const silent = new Set<string>();
    sim.rtt = (ifname) => (silent.has(ifname) ? undefined : 0.2);
    const why = `seed ${seed}`;
    silent.add('eth0');
    sim.runFor(2 * FDT);
    silent.add('eth1');
    sim.runFor(2 * FDT);
    assert.deepEqual(
      sim.events('interface_failed', t0).map((e) => e.output.ifname),
      ['eth0', 'eth1'],
      why,
    );
    assert.equal(sim.events('group_failed', t0).length, 0, why);
    assert.equal(sim.group().state, 'degraded', why);
    assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth2'], why);
    silent.add('eth2');
    sim.runFor(2 * FDT);
    assert.equal(sim.events('group_failed', t0).length, 1, why);
    assert.equal(sim.events('targets_unreachable', t0).length, 0, why);
    assert.equal(sim.group().state, 'failed', why);
  }
});

test('a group failed by sequential silence is repaired when a NIC answers again, and the address stays served', () => {
  const { sim } = sequentialSilence(7, 2 * FDT);
  assert.equal(sim.group().state, 'failed');
  const t2 = sim.now;
  sim.rtt = (ifname) => (ifname === 'eth0' ? 0.2 : undefined);
  sim.runFor(3 * FDT);
  assert.equal(sim.events('group_usable', t2).length, 1);
  assert.equal(sim.iface('eth0').state, 'ok');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
});
