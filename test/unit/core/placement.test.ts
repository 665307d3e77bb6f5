import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidr, Sim, twoNicConfig } from './sim.js';

const threeWithStandby = () =>
  twoNicConfig(
    {},
    {
      interfaces: [
        { name: 'eth0', testAddresses: [cidr('198.18.11.6/24')], standby: false },
        { name: 'eth1', testAddresses: [cidr('198.18.11.7/24')], standby: false },
        { name: 'eth2', testAddresses: [cidr('198.18.11.8/24')], standby: true },
      ],
      dataAddresses: [
        { address: cidr('198.18.11.5/24'), preferredInterface: 'eth0' },
        { address: cidr('198.18.11.15/24'), preferredInterface: 'eth1' },
      ],
    },
  );

test('a standby stays inactive while the group is at capacity and is used only when needed', () => {
  const sim = new Sim(threeWithStandby(), { seed: 3 });
  sim.runFor(20_000);
  assert.equal(sim.iface('eth2').inactive, true);
  assert.equal(sim.iface('eth2').active, false);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  assert.deepEqual(sim.holderOf('198.18.11.15'), ['eth1']);
  const t0 = sim.now;
  sim.setLink('eth0', false);
  assert.equal(sim.iface('eth2').active, true, 'the standby was not activated');
  assert.deepEqual(
    sim.holderOf('198.18.11.5'),
    ['eth2'],
    'the address should go to the now-active standby (least loaded)',
  );
  sim.setLink('eth0', true);
  sim.runFor(30_000);
  assert.equal(sim.iface('eth2').inactive, true, 'the standby should step back after failback');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  const moves = sim.events('move_address', t0).map((e) => [e.output.from, e.output.to, e.output.reason]);
  assert.deepEqual(moves, [
    ['eth0', 'eth2', 'link'],
    ['eth2', 'eth0', 'failback'],
  ]);
});

test('offline moves the address (admin) and online brings it back; the last usable member cannot be offlined', () => {
  const sim = new Sim(twoNicConfig({ failback: false }), { seed: 4 });
  sim.runFor(20_000);
  const t0 = sim.now;
  assert.deepEqual(sim.engine.offline(sim.now, 'eth0'), { ok: true });
  sim.drain();
  assert.equal(sim.iface('eth0').state, 'offline');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  assert.equal(sim.events('move_address', t0)[0]?.output.reason, 'admin');
  assert.equal(sim.group().state, 'degraded');
  const refused = sim.engine.offline(sim.now, 'eth1');
  assert.equal(refused.ok, false);
  assert.match(!refused.ok ? refused.error : '', /no other functioning interfaces/);
  assert.equal(sim.iface('eth1').state, 'ok');
  // offline stops probing on eth0
  const sentBefore = sim.events('send_probe').filter((e) => e.output.ifname === 'eth0').length;
  sim.runFor(10_000);
  assert.equal(sim.events('send_probe').filter((e) => e.output.ifname === 'eth0').length, sentBefore);
  // online makes it active even with FAILBACK=no, and the address returns home
  assert.deepEqual(sim.engine.online(sim.now, 'eth0'), { ok: true });
  sim.drain();
  assert.equal(sim.iface('eth0').active, true);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  assert.equal(sim.engine.online(sim.now, 'eth0').ok, false);
  assert.equal(sim.engine.offline(sim.now, 'eth9').ok, false);
});

test('several unpinned addresses are spread over the active members, and re-spread on failback', () => {
  const config = twoNicConfig(
    {},
    {
      dataAddresses: ['198.18.11.5/24', '198.18.11.15/24', '198.18.11.25/24', '198.18.11.35/24'].map((a) => ({
        address: cidr(a),
      })),
    },
  );
  const sim = new Sim(config, { seed: 6 });
  sim.runFor(1000);
  const count = (ifname: string) => [...sim.holders.values()].filter((on) => on.includes(ifname)).length;
  assert.equal(count('eth0'), 2);
  assert.equal(count('eth1'), 2);
  sim.setLink('eth1', false);
  assert.equal(count('eth0'), 4);
  sim.setLink('eth1', true);
  sim.runFor(30_000);
  assert.equal(count('eth0'), 2);
  assert.equal(count('eth1'), 2);
  for (const on of sim.holders.values()) assert.equal(on.length, 1);
});

test('restart adoption: an address already on a healthy member stays; none moves', () => {
  const sim = new Sim(twoNicConfig(), { seed: 2, holders: { '198.18.11.5': ['eth1'] } });
  sim.runFor(30_000);
  assert.equal(sim.events('move_address').length, 0);
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
});

test('start-up: an address found nowhere is placed on its preferred interface; one found twice keeps one copy', () => {
  const fresh = new Sim(twoNicConfig(), { seed: 2 });
  assert.deepEqual(fresh.holderOf('198.18.11.5'), ['eth0']);
  assert.equal(fresh.events('move_address')[0]?.output.reason, 'placement');

  const twice = new Sim(twoNicConfig(), { seed: 2, holders: { '198.18.11.5': ['eth1', 'eth0'] } });
  assert.deepEqual(twice.holderOf('198.18.11.5'), ['eth1']);
  assert.equal(twice.events('remove_address').length, 1);

  const downPreferred = new Sim(twoNicConfig(), { seed: 2, links: { eth0: false, eth1: true } });
  assert.deepEqual(downPreferred.holderOf('198.18.11.5'), ['eth1']);
});

test('observed state is authoritative: an address removed behind our back is put back', () => {
  const sim = new Sim(twoNicConfig(), { seed: 2 });
  sim.runFor(5000);
  sim.holders.set('198.18.11.5', []);
  sim.engine.observeAddresses(sim.now, sim.holders);
  sim.drain();
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
  sim.holders.set('198.18.11.5', ['eth0', 'eth1']);
  sim.engine.observeAddresses(sim.now, sim.holders);
  sim.drain();
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
});

test('never on zero or two: random link flaps keep every address on exactly one usable member', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const sim = new Sim(threeWithStandby(), { seed });
    let r = seed;
    const rand = () => (r = (r * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let step = 0; step < 200; step++) {
      const ifname = ['eth0', 'eth1', 'eth2'][Math.floor(rand() * 3)]!;
      sim.setLink(ifname, rand() < 0.5);
      sim.runFor(rand() * 3000);
      const snap = sim.group();
      const anyActive = snap.interfaces.some((i) => i.active);
      for (const addr of ['198.18.11.5', '198.18.11.15']) {
        const on = sim.holderOf(addr);
        assert.ok(on.length <= 1, `seed ${seed} step ${step}: ${addr} on ${on.join(',')}`);
        if (anyActive) {
          assert.equal(on.length, 1, `seed ${seed} step ${step}: ${addr} on nothing while a member is active`);
          assert.ok(
            snap.interfaces.find((i) => i.name === on[0])!.active,
            `seed ${seed} step ${step}: ${addr} on inactive ${on[0]}`,
          );
        }
      }
    }
  }
});

test('a member with a duplicate MAC is taken out of service until its MAC is unique', () => {
  const sim = new Sim(twoNicConfig(), { seed: 1 });
  sim.engine.reportLinks(sim.now, [{ ifname: 'eth1', present: true, up: true, mac: '02:00:00:00:00:00' }]);
  sim.drain();
  assert.equal(sim.iface('eth1').duplicateMac, true);
  assert.equal(sim.iface('eth1').active, false);
  assert.ok(sim.events('duplicate_mac').some((e) => e.output.offlined));
  sim.engine.reportLinks(sim.now, [{ ifname: 'eth1', present: true, up: true, mac: '02:00:00:00:00:09' }]);
  sim.drain();
  assert.equal(sim.iface('eth1').duplicateMac, false);
  assert.equal(sim.iface('eth1').active, true);
});

test('an interface that vanishes loses its addresses; they move; it comes back and is repaired', () => {
  const sim = new Sim(twoNicConfig(), { seed: 1 });
  sim.runFor(20_000);
  sim.engine.reportLinks(sim.now, [{ ifname: 'eth0', present: false, up: false }]);
  sim.holders.set('198.18.11.5', []); // the kernel dropped it with the device
  sim.drain();
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth1']);
  assert.equal(sim.iface('eth0').state, 'failed');
  sim.engine.reportLinks(sim.now, [{ ifname: 'eth0', present: true, up: true, mac: '02:00:00:00:00:00' }]);
  sim.drain();
  sim.runFor(30_000);
  assert.equal(sim.iface('eth0').state, 'ok');
  assert.deepEqual(sim.holderOf('198.18.11.5'), ['eth0']);
});
