// The kernel's view turned into engine inputs, from a fake KernelView.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressHolders, linkReports } from '../../../src/daemon/hostView.js';
import type { KernelLink, KernelView } from '../../../src/daemon/ports.js';
import { twoNicConfig } from '../core/sim.js';

function view(links: KernelLink[], holders: Record<string, string[]>): KernelView {
  return {
    links: () => links,
    addresses: () => [],
    holdersOf: (a) => holders[a] ?? [],
    routes: () => [],
    gatewayRoutes: () => [],
  };
}
const link = (name: string, over: Partial<KernelLink> = {}): KernelLink => ({
  name,
  index: 2,
  adminUp: true,
  carrier: true,
  mac: '02:00:00:00:00:01',
  ...over,
});

test('a link is up only when administratively up with carrier; a missing one is reported absent', () => {
  const v = view([link('eth0'), link('eth1', { carrier: false }), link('eth2', { adminUp: false })], {});
  assert.deepEqual(
    linkReports(v, ['eth0', 'eth1', 'eth2', 'eth3']).map((r) => [r.ifname, r.present, r.up]),
    [
      ['eth0', true, true],
      ['eth1', true, false],
      ['eth2', true, false],
      ['eth3', false, false],
    ],
  );
});

test('an address on a member renamed away is reported under the member name it left, after the members that hold it', () => {
  const v = view([link('eth0'), link('renamed0', { formerNames: ['eth1'] })], { '198.18.11.5': ['renamed0', 'eth0'] });
  assert.deepEqual([...addressHolders(v, twoNicConfig())], [['198.18.11.5', ['eth0', 'eth1']]]);
});

test('a renamed NIC whose old name is back in use keeps its own name: it is not the member', () => {
  const v = view([link('eth0'), link('eth1'), link('renamed0', { formerNames: ['eth1'] })], {
    '198.18.11.5': ['renamed0'],
  });
  assert.deepEqual([...addressHolders(v, twoNicConfig())], [['198.18.11.5', ['renamed0']]]);
});
