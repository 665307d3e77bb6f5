import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NUM_PROBE_REPAIRS } from '../../../src/core/constants.js';
import { Sim, twoNicConfig } from './sim.js';

const FDT = 10_000;
const UPI = Math.floor(FDT / 7);

function failEth0BySilence(sim: Sim): number {
  sim.runFor(20_000);
  sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
  sim.runFor(2 * FDT);
  assert.equal(sim.iface('eth0').state, 'failed');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  sim.rtt = () => 0.2;
  return sim.now;
}

test('repair after ten answered probes, then failback (FAILBACK=yes)', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const sim = new Sim(twoNicConfig(), { seed });
    const restored = failEth0BySilence(sim);
    sim.runFor(3 * FDT);
    const repair = sim.events('interface_repaired', restored).find((e) => e.output.ifname === 'eth0');
    assert.ok(repair, `seed ${seed}: never repaired`);
    const acks = sim.events('probe_acked', restored).filter((e) => e.output.ifname === 'eth0' && e.at <= repair.at);
    assert.ok(acks.length >= NUM_PROBE_REPAIRS, `seed ${seed}: repaired after ${acks.length} answers`);
    assert.ok(
      repair.at - restored <= (NUM_PROBE_REPAIRS + 2) * 1.5 * UPI,
      `seed ${seed}: repair took ${repair.at - restored} ms`,
    );
    const back = sim.events('move_address', restored)[0];
    assert.ok(back, `seed ${seed}: no failback`);
    assert.equal(back.at, repair.at);
    assert.deepEqual([back.output.from, back.output.to, back.output.reason], ['eth1', 'eth0', 'failback']);
    assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
    assert.equal(sim.group().state, 'ok');
  }
});

test('FAILBACK=no keeps the address on the backup after repair; the repaired NIC waits inactive', () => {
  const sim = new Sim(twoNicConfig({ failback: false }), { seed: 21 });
  const restored = failEth0BySilence(sim);
  sim.runFor(3 * FDT);
  assert.ok(sim.events('interface_repaired', restored).some((e) => e.output.ifname === 'eth0'));
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  assert.equal(sim.events('move_address', restored).length, 0);
  const eth0 = sim.iface('eth0');
  assert.equal(eth0.state, 'ok');
  assert.equal(eth0.inactive, true);
  assert.equal(eth0.active, false);
  assert.equal(sim.group().state, 'ok');
  // when the backup fails, the inactive one takes over
  const t1 = sim.now;
  sim.setLink('eth1', false);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  assert.equal(sim.events('move_address', t1)[0]?.output.reason, 'link');
});

test('link-only interface (no test address): repaired on link up, unless the link flaps', () => {
  const config = twoNicConfig(
    {},
    {
      interfaces: [
        { name: 'eth0', testAddresses: [], standby: false },
        { name: 'eth1', testAddresses: [], standby: false },
      ],
    },
  );
  const sim = new Sim(config, { seed: 1 });
  sim.runFor(25_000);
  assert.equal(sim.iface('eth0').probeState, 'disabled');
  assert.ok(
    sim.events('probing_disabled').some((e) => e.output.ifname === 'eth0' && e.output.reason === 'no_test_address'),
  );
  sim.setLink('eth0', false);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  const t1 = sim.now;
  sim.setLink('eth0', true);
  assert.equal(sim.iface('eth0').state, 'ok', 'first link-up repairs at once');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  // two more flaps inside a minute: the third link-up is not trusted
  sim.runFor(1000);
  sim.setLink('eth0', false);
  sim.runFor(1000);
  sim.setLink('eth0', true);
  sim.runFor(1000);
  sim.setLink('eth0', false);
  sim.runFor(1000);
  sim.setLink('eth0', true);
  assert.equal(sim.iface('eth0').state, 'failed');
  assert.ok(sim.events('repair_deferred_flapping', t1).length >= 1);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  // once the minute is over it is repaired without another event from the link
  sim.runFor(61_000);
  assert.equal(sim.iface('eth0').state, 'ok');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
});

test('repair is detected with two targets when one of them stays down (Solaris 9 bug)', () => {
  const routes = [
    { family: 4 as const, destination: '198.18.11.21', prefixLength: 32, gateway: '198.18.11.21' },
    { family: 4 as const, destination: '198.18.11.22', prefixLength: 32, gateway: '198.18.11.22' },
  ];
  const sim = new Sim(twoNicConfig(), { seed: 8, routes });
  const restored = failEth0BySilence(sim);
  sim.rtt = (ifname, target) => (target === '198.18.11.22' ? undefined : 0.2);
  sim.runFor(4 * FDT);
  assert.ok(sim.events('interface_repaired', restored).some((e) => e.output.ifname === 'eth0'));
  assert.equal(sim.iface('eth0').state, 'ok');
});
