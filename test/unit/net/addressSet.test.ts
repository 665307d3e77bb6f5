// The adapter's address index: constant-time changes, holders by address,
// renames and removals of a whole device.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KernelAddress } from '../../../src/daemon/ports.js';
import { AddressSet } from '../../../src/net/netlink/addressSet.js';
import { cidr } from '../core/sim.js';

const at = (device: string, text: string): KernelAddress => ({
  device,
  cidr: cidr(text),
  secondary: false,
  noprefixroute: false,
});

test('holders by address, across prefix lengths and devices; the list follows every change', () => {
  const set = new AddressSet();
  set.add(at('eth0', '198.18.11.5/24'));
  set.add(at('eth0', '198.18.11.5/32'));
  set.add(at('eth1', '198.18.11.5/24'));
  set.add(at('eth1', '198.18.11.7/24'));
  assert.deepEqual(set.holdersOf('198.18.11.5'), ['eth0', 'eth1']);
  set.remove(at('eth0', '198.18.11.5/24'));
  assert.deepEqual(set.holdersOf('198.18.11.5'), ['eth0', 'eth1'], 'eth0 still has it as /32');
  set.remove(at('eth0', '198.18.11.5/32'));
  assert.deepEqual(set.holdersOf('198.18.11.5'), ['eth1']);
  set.remove(at('eth0', '198.18.11.5/32')); // twice: no harm
  assert.equal(set.list().length, 2);
  assert.equal(set.anyOn('eth1', 4), true);
  assert.equal(set.anyOn('eth0', 4), false);
});

test('a renamed device keeps its addresses under the new name; a gone one loses them', () => {
  const set = new AddressSet();
  set.add(at('eth0', '198.18.11.5/24'));
  set.add(at('eth0', '198.18.11.6/24'));
  set.add(at('eth1', '198.18.11.7/24'));
  set.forDevice('eth0', 'lan0');
  assert.deepEqual(set.holdersOf('198.18.11.5'), ['lan0']);
  assert.deepEqual(
    set
      .list()
      .filter((a) => a.device === 'lan0')
      .map((a) => a.cidr.address)
      .sort(),
    ['198.18.11.5', '198.18.11.6'],
  );
  set.forDevice('lan0');
  assert.deepEqual(set.holdersOf('198.18.11.5'), []);
  assert.deepEqual(
    set.list().map((a) => a.device),
    ['eth1'],
  );
  set.replaceAll([at('eth2', '198.18.11.9/24')]);
  assert.deepEqual(set.holdersOf('198.18.11.7'), []);
  assert.deepEqual(set.holdersOf('198.18.11.9'), ['eth2']);
});
