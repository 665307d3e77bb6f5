// A member NIC renamed away has left the group, yet what ipmpd put on it must
// still come off: the rtnetlink adapter remembers a renamed link's former names
// (deletions find it by them, additions never do), and the host view reports a
// data address on it under the member name it left. The lab test is
// test/scenarios/rename.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/config/load.js';
import { addressHolders, linkReports } from '../../../src/daemon/hostView.js';
import type { KernelAddress, KernelLink, KernelView } from '../../../src/daemon/ports.js';
import { FormerNames, linkNamed } from '../../../src/net/netlink/formerNames.js';

const up = (name: string, index: number, formerNames?: string[]): KernelLink => ({
  name,
  index,
  adminUp: true,
  carrier: true,
  ...(formerNames ? { formerNames } : {}),
});

test('a renamed link keeps its former names; renamed back, the name it has is not a former one', () => {
  const names = new FormerNames();
  let links = names.update([], [up('lo', 1), up('e0', 5), up('e1', 6)]);
  links = names.update(links, [up('lo', 1), up('e0x', 5), up('e1', 6)]);
  assert.deepEqual(links.find((l) => l.index === 5)?.formerNames, ['e0']);
  assert.equal(links.find((l) => l.index === 6)?.formerNames, undefined);
  // a later re-read (the kernel's fresh records carry no former names) keeps them
  links = names.update(links, [up('lo', 1), up('e0x', 5), up('e1', 6)]);
  assert.deepEqual(links.find((l) => l.index === 5)?.formerNames, ['e0']);
  links = names.update(links, [up('lo', 1), up('e0', 5), up('e1', 6)]);
  assert.deepEqual(links.find((l) => l.index === 5)?.formerNames, ['e0x']);
});

test('a link that is gone forgets its former names (its index may come back as another NIC)', () => {
  const names = new FormerNames();
  let links = names.update([], [up('e0', 5)]);
  links = names.update(links, [up('e0x', 5)]);
  links = names.update(links, []);
  links = names.update(links, [up('new', 5)]);
  assert.equal(links[0]?.formerNames, undefined);
  names.update([up('a', 7)], [up('b', 7)]);
  names.forget(7);
  assert.equal(names.update([], [up('b', 7)])[0]?.formerNames, undefined);
});

test('deletions follow a rename, additions do not; a link holding the name wins', () => {
  const links = [up('e0x', 5, ['e0']), up('e1', 6)];
  assert.equal(linkNamed(links, 'e0', true)?.index, 5);
  assert.equal(linkNamed(links, 'e0', false), undefined);
  assert.equal(linkNamed([...links, up('e0', 9)], 'e0', true)?.index, 9);
  assert.equal(linkNamed(links, 'e7', true), undefined);
});

const config = parseConfigText(
  `groups:
  - name: g
    interfaces:
      - name: e0
      - name: e1
    data_addresses:
      - address: 198.18.0.10/24
`,
  'test.yaml',
);

function view(links: KernelLink[], addresses: Array<[string, string]>): KernelView {
  const addrs: KernelAddress[] = addresses.map(([device, address]) => ({
    device,
    cidr: { address, prefixLength: 24, family: 4 },
    secondary: false,
    noprefixroute: false,
  }));
  return {
    links: () => links,
    addresses: () => addrs,
    holdersOf: (address) => addrs.filter((a) => a.cidr.address === address).map((a) => a.device),
    routes: () => [],
    gatewayRoutes: () => [],
  };
}

test('host view: the member renamed away is absent, and a data address on it is reported under the member name', () => {
  const v = view(
    [up('e0x', 5, ['e0']), up('e1', 6)],
    [
      ['e0x', '198.18.0.10'],
      ['e1', '198.18.0.10'],
    ],
  );
  assert.deepEqual(
    linkReports(v, ['e0', 'e1']).map((r) => [r.ifname, r.present]),
    [
      ['e0', false],
      ['e1', true],
    ],
  );
  assert.deepEqual([...addressHolders(v, config).get('198.18.0.10')!].sort(), ['e0', 'e1']);
});

test('host view: a NIC still in the group comes before the renamed one (kept when neither is active)', () => {
  const v = view(
    [up('e0x', 5, ['e0']), up('e1', 6)],
    [
      ['e0x', '198.18.0.10'],
      ['e1', '198.18.0.10'],
    ],
  );
  assert.equal(addressHolders(v, config).get('198.18.0.10')?.[0], 'e1');
});

test('host view: once another NIC is named like the member, the renamed one is just itself', () => {
  // names swapped: e0 -> tmp, e1 -> e0, tmp -> e1
  const v = view([up('e1', 5, ['e0', 'tmp']), up('e0', 6, ['e1'])], [['e1', '198.18.0.10']]);
  assert.deepEqual(addressHolders(v, config).get('198.18.0.10'), ['e1']);
  const away = view([up('other', 5, ['e0']), up('e0', 7)], [['other', '198.18.0.10']]);
  assert.deepEqual(addressHolders(away, config).get('198.18.0.10'), ['other']);
});
