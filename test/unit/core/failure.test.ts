import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sim, twoNicConfig } from './sim.js';

const FDT = 10_000;
const UPI = Math.floor(FDT / 7);

test('silent targets: failure within FDT and never before the fifth lost probe (300 seeds)', () => {
  let worst = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const sim = new Sim(twoNicConfig(), { seed });
    sim.runFor(60_000); // past the quiet period, RTT known
    const t0 = sim.now + (seed % 997); // cut at an arbitrary phase of the schedule
    sim.runUntil(t0);
    sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
    sim.runFor(3 * FDT);
    const failure = sim.events('interface_failed', t0).find((e) => e.output.ifname === 'eth0');
    assert.ok(failure, `seed ${seed}: eth0 never failed`);
    assert.equal(failure.output.cause, 'probe');
    const detection = failure.at - t0;
    worst = Math.max(worst, detection);
    assert.ok(detection <= FDT, `seed ${seed}: failed after ${detection} ms > FDT`);
    const lostBefore = sim.events('probe_lost', t0).filter((e) => e.output.ifname === 'eth0' && e.at <= failure.at);
    assert.ok(lostBefore.length >= 5, `seed ${seed}: failed after only ${lostBefore.length} lost probes`);
    // the lost probes were each sent after the cut
    const sentAfterCut = sim
      .events('send_probe', t0)
      .filter((e) => e.output.ifname === 'eth0' && e.output.probeKind === 'uni' && e.at < failure.at);
    assert.ok(sentAfterCut.length >= 5, `seed ${seed}: only ${sentAfterCut.length} probes sent before failure`);
    assert.equal(sim.iface('eth1').state, 'ok');
  }
  assert.ok(worst > 5 * UPI, `worst detection ${worst} ms is implausibly fast`);
});

test('link loss fails the interface at once and moves the address, cause link', () => {
  const sim = new Sim(twoNicConfig(), { seed: 7 });
  sim.runFor(30_000);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  const t0 = sim.now;
  sim.setLink('eth0', false);
  const failure = sim.events('interface_failed', t0)[0];
  assert.equal(failure?.at, t0);
  assert.equal(failure?.output.cause, 'link');
  const move = sim.events('move_address', t0)[0]!;
  assert.equal(move.at, t0);
  assert.deepEqual([move.output.from, move.output.to, move.output.reason], ['eth0', 'eth1', 'link']);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  assert.equal(sim.group().state, 'degraded');
  assert.equal(sim.iface('eth0').state, 'failed');
  assert.equal(sim.iface('eth0').link, 'down');
});

test('silent failure moves the address with cause probe', () => {
  const sim = new Sim(twoNicConfig({ failureDetectionTimeMs: 1000 }), { seed: 3 });
  sim.runFor(5000);
  const t0 = sim.now;
  sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
  sim.runFor(3000);
  const move = sim.events('move_address', t0)[0];
  assert.ok(move);
  assert.equal(move.output.reason, 'probe');
  assert.ok(move.at - t0 <= 1000, `moved after ${move.at - t0} ms`);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
});

test('start-up quiet period: lost probes are ignored for 40 s unless something answers', () => {
  const sim = new Sim(twoNicConfig(), { seed: 11 });
  sim.rtt = () => undefined; // nothing ever answers
  const t0 = sim.now;
  sim.runFor(39_000);
  assert.equal(sim.events('interface_failed').length, 0);
  sim.runFor(20_000);
  // no member ever answered: nothing proves any NIC working, so the group fails
  // (no "every target lost at once": that needs members that were working)
  const groupFailed = sim.events('group_failed');
  assert.equal(groupFailed.length, 1);
  assert.ok(groupFailed[0]!.at >= t0 + 40_000, `group failed ${groupFailed[0]!.at - t0} ms after start`);
  assert.equal(sim.events('targets_unreachable').length, 0);
});

test('an answer ends the quiet period early', () => {
  const sim = new Sim(twoNicConfig(), { seed: 5 });
  sim.runFor(5000); // answered probes end the quiet period
  const t0 = sim.now;
  sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
  sim.runFor(FDT + 1);
  assert.ok(sim.events('interface_failed', t0).some((e) => e.output.ifname === 'eth0'));
  assert.ok(sim.now < 1_000_000 + 40_000, 'still inside the quiet period, yet detected');
});

test('late replies turn lost probes into answered ones: slow but alive is not failed', () => {
  const sim = new Sim(twoNicConfig({ failureDetectionTimeMs: 1000 }), { seed: 9 });
  sim.runFor(5000);
  // replies arrive after the next tick (longer than the probe interval) but do arrive
  sim.rtt = (ifname) => (ifname === 'eth0' ? 250 : 0.2);
  sim.runFor(20_000);
  assert.equal(sim.events('interface_failed').length, 0);
  assert.ok(
    sim.events('probe_acked').some((e) => e.output.late),
    'no late reply was accepted',
  );
});

test('both links down: group failed, the address stays where it was, no flapping', () => {
  const sim = new Sim(twoNicConfig(), { seed: 2 });
  sim.runFor(20_000);
  const t0 = sim.now;
  sim.setLink('eth1', false);
  sim.setLink('eth0', false);
  sim.runFor(60_000);
  assert.equal(sim.group().state, 'failed');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  assert.equal(sim.events('move_address', t0).length, 0);
  assert.equal(sim.events('group_failed', t0).length, 1);
  assert.equal(sim.events('group_failed', t0)[0]!.output.cause, 'link');
});

test('fail_group mode: every member silent at once fails the group (in.mpathd behaviour)', () => {
  const sim = new Sim(twoNicConfig({ onAllTargetsLost: 'fail_group' }), { seed: 4 });
  sim.runFor(20_000);
  const t0 = sim.now;
  sim.rtt = () => undefined; // the only target, the router, dies
  sim.runFor(3 * FDT);
  assert.equal(sim.group().state, 'failed');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  assert.equal(sim.events('move_address', t0).length, 0);
});

test('rediscover mode: every member silent at once is reported, not a group failure', () => {
  const sim = new Sim(twoNicConfig(), { seed: 4 });
  sim.runFor(20_000);
  const t0 = sim.now;
  sim.rtt = () => undefined;
  sim.runFor(3 * FDT);
  assert.notEqual(sim.group().state, 'failed');
  assert.equal(sim.events('interface_failed', t0).length, 0);
  assert.equal(sim.events('targets_unreachable', t0).length, 1);
  assert.equal(sim.group().targetsUnreachable, true);
  assert.ok(
    sim.events('send_probe', t0).some((e) => e.output.probeKind === 'multi'),
    'no multicast discovery',
  );
  // a host answering the all-hosts echo becomes a target and probing resumes
  sim.multicastResponders = () => ['198.18.11.20'];
  sim.rtt = (_i, target) => (target === '198.18.11.20' ? 0.3 : undefined);
  sim.runFor(FDT);
  assert.equal(sim.group().targetsUnreachable, false);
  assert.deepEqual(
    sim
      .iface('eth0')
      .instances[0]!.targets.filter((t) => t.status === 'active')
      .map((t) => t.address),
    ['198.18.11.20'],
  );
  assert.equal(sim.iface('eth0').probeState, 'ok');
});

test('both links reported down in one batch: a group failure, not a move to the other dying NIC', () => {
  const sim = new Sim(twoNicConfig(), { seed: 2 });
  sim.runFor(20_000);
  const t0 = sim.now;
  sim.links.set('eth0', false);
  sim.links.set('eth1', false);
  sim.engine.reportLinks(sim.now, [
    { ifname: 'eth0', present: true, up: false },
    { ifname: 'eth1', present: true, up: false },
  ]);
  sim.drain();
  assert.equal(sim.group().state, 'failed');
  assert.equal(sim.events('move_address', t0).length, 0);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
});

test('a member answering but not yet repaired proves the targets alive: no rediscovery, the address follows its repair', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const sim = new Sim(twoNicConfig(), { seed });
    sim.runFor(60_000);
    // eth1 loses its link and gets it back: it answers at once, but repair takes ten answers
    sim.setLink('eth1', false);
    sim.runFor(2_000);
    sim.setLink('eth1', true);
    const t0 = sim.now;
    sim.runUntil(sim.events('probe_acked', t0).find((e) => e.output.ifname === 'eth1')?.at ?? sim.now + 5_000);
    assert.notEqual(sim.iface('eth1').state, 'ok', `seed ${seed}: eth1 repaired too early for this test`);
    // now eth0's targets fall silent while eth1 keeps answering
    const t1 = sim.now;
    sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
    sim.runFor(4 * FDT);
    assert.equal(
      sim.events('targets_unreachable', t1).length,
      0,
      `seed ${seed}: eth1's answers were taken for every target lost`,
    );
    assert.equal(sim.iface('eth1').state, 'ok', `seed ${seed}: eth1 never repaired`);
    assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1'], `seed ${seed}`);
  }
});
