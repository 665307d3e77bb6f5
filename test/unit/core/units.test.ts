import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inSubnet, isLinkLocalV6, networkOf } from '../../../src/core/addressMath.js';
import { ProbeRing } from '../../../src/core/probeRing.js';
import { routerCandidates } from '../../../src/core/routeTargets.js';
import { computeCrtt, RttEstimator } from '../../../src/core/rtt.js';

test('Jacobson/Karels: the first sample gives CRTT = 3 m; later ones smooth', () => {
  const first = computeCrtt(-1, 0, 10);
  assert.deepEqual(first, { sa: 80, sv: 20, crtt: 30 });
  const second = computeCrtt(first.sa, first.sv, 18); // err = 8
  assert.equal(second.sa, 88);
  assert.equal(second.sv, 20 + 8 - 5);
  assert.equal(second.crtt, 11 + 23);
});

test('spike filter: one sample that would exceed the probe interval is held back, a second is believed', () => {
  const r = new RttEstimator();
  r.update(1, 100, true);
  assert.equal(r.crtt, 3);
  r.update(500, 100, true);
  assert.equal(r.crtt, 3, 'a single spike changed CRTT');
  r.update(1, 100, true); // a normal sample in between drops the held one
  assert.ok(r.crtt < 10);
  r.update(500, 100, true);
  r.update(500, 100, true);
  assert.ok(r.crtt > 100, 'two slow samples in a row were not believed');
  const lowered = r.crtt;
  r.update(1000, 100, false); // an RTT-probe sample only ever lowers it
  assert.equal(r.crtt, lowered);
});

test('router candidates: host-route gateways, then other routes, then default; subnet, family and own-address filters', () => {
  const test4 = { family: 4 as const, device: 'eth0', subnets: [{ address: '198.18.11.6', prefixLength: 24 }] };
  const got = routerCandidates(
    [
      { family: 4, prefixLength: 0, gateway: '198.18.11.1' },
      { family: 4, destination: '198.18.30.0', prefixLength: 24, gateway: '198.18.11.2' },
      { family: 4, destination: '198.18.40.9', prefixLength: 32, gateway: '198.18.11.3' },
      { family: 4, destination: '198.18.50.9', prefixLength: 32, gateway: '198.19.1.1' }, // another subnet
      { family: 4, destination: '198.18.60.9', prefixLength: 32, gateway: '198.18.11.7' }, // ours
      { family: 4, destination: '198.18.11.0', prefixLength: 24 }, // on-link, no gateway
      { family: 6, prefixLength: 0, gateway: 'fe80::1', device: 'eth0' },
    ],
    test4,
    new Set(['198.18.11.7']),
  );
  assert.deepEqual(got, [
    { address: '198.18.11.3', source: 'route' },
    { address: '198.18.11.2', source: 'route' },
    { address: '198.18.11.1', source: 'default_router' },
  ]);
  const test6 = { family: 6 as const, device: 'eth0', subnets: [{ address: 'fe80::6', prefixLength: 64 }] };
  const got6 = routerCandidates(
    [
      { family: 6, prefixLength: 0, gateway: 'fe80::1', device: 'eth0' },
      { family: 6, prefixLength: 0, gateway: 'fe80::2', device: 'eth1' },
      { family: 6, destination: '2001:db8:9::', prefixLength: 48, gateway: '2001:db8::1', device: 'eth0' },
    ],
    test6,
    new Set(),
  );
  assert.deepEqual(got6, [{ address: 'fe80::1', source: 'default_router' }]);
});

test('address math', () => {
  assert.equal(inSubnet('198.18.11.200', '198.18.11.6', 24, 4), true);
  assert.equal(inSubnet('198.18.12.1', '198.18.11.6', 24, 4), false);
  assert.equal(inSubnet('2001:db8:1::9', '2001:db8:1::1', 64, 6), true);
  assert.equal(inSubnet('2001:db8:2::9', '2001:db8:1::1', 64, 6), false);
  assert.equal(inSubnet('198.18.11.1', '2001:db8:1::1', 64, 6), false);
  assert.equal(isLinkLocalV6('fe80::1'), true);
  assert.equal(isLinkLocalV6('febf::1'), true);
  assert.equal(isLinkLocalV6('fec0::1'), false);
  assert.equal(isLinkLocalV6('198.18.0.1'), false);
  assert.equal(networkOf('198.18.11.200', 24), '198.18.11.0');
  assert.equal(networkOf('198.18.11.200', 21), '198.18.8.0');
  assert.equal(networkOf('198.18.11.200', 32), '198.18.11.200');
  assert.equal(networkOf('198.18.11.200', 0), '0.0.0.0');
  assert.equal(networkOf('2001:db8:1:2:3::9', 64), '2001:db8:1:2::');
  assert.equal(networkOf('2001:db8:1:2:3::9', 128), '2001:db8:1:2:3::9');
});

test('probe ring: sequence window, duplicates and wrap-around', () => {
  const ring = new ProbeRing<string>();
  ring.snxt = 65_530; // close to the wrap
  const seqs: number[] = [];
  for (let i = 0; i < 10; i++) seqs.push(ring.record('t', i * 100));
  assert.equal(seqs[6], 0, 'sequence numbers wrap at 2^16');
  const slot = ring.lookup(seqs[8]!);
  assert.ok(slot);
  ring.ack(slot, 850);
  assert.equal(ring.rack, seqs[8]);
  assert.equal(ring.lookup(seqs[9]! + 1), undefined, 'a sequence number not yet sent was accepted');
  for (let i = 0; i < 60; i++) ring.record('t', 2000 + i);
  assert.equal(ring.lookup(seqs[0]!), undefined, 'a sequence number out of the window was accepted');
});
