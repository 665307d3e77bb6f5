// Which NICs the daemon hands the engine as the anonymous group, and how that
// set follows the kernel and a reload (fake adapters).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Family } from '../../../src/config/types.js';
import { anonymousMembers } from '../../../src/daemon/anonymousGroup.js';
import type { Adapters } from '../../../src/daemon/daemon.js';
import { everyGroupHasVerdict } from '../../../src/daemon/readiness.js';
import type { KernelAddress, KernelLink, KernelView } from '../../../src/daemon/ports.js';
import { cidr, twoNicConfig } from '../core/sim.js';
import { withDaemon } from './fakeAdapters.js';

const addr = (device: string, text: string, secondary = false): KernelAddress => ({
  device,
  cidr: cidr(text),
  secondary,
  noprefixroute: false,
});
const link = (name: string, index: number, adminUp = true): KernelLink => ({
  name,
  index,
  adminUp,
  carrier: true,
  mac: `02:00:00:00:00:${String(index).padStart(2, '0')}`,
});

function view(links: KernelLink[], addresses: KernelAddress[]): KernelView {
  return {
    links: () => links,
    addresses: () => addresses,
    holdersOf: (address) => addresses.filter((a) => a.cidr.address === address).map((a) => a.device),
    routes: () => [],
    gatewayRoutes: () => [{ family: 4, prefixLength: 0, gateway: '198.18.11.1', device: 'eth0' }],
  };
}

/** eth0 and eth1 in unrealgrp1 (as the seed); the rest in no group. */
const config = (track: boolean) => twoNicConfig({ trackInterfacesOnlyWithGroups: track });

test('the anonymous group: up NICs in no group with an address of their own, probed from it', () => {
  const v = view(
    [
      link('lo', 1),
      link('eth0', 2),
      link('eth1', 3),
      link('eth2', 4),
      link('eth3', 5),
      link('eth4', 6, false),
      link('eth5', 7),
      link('eth6', 8),
    ],
    [
      addr('lo', '127.0.0.1/8'),
      addr('eth0', '198.18.11.6/24'),
      addr('eth2', '198.18.12.9/24', true), // a secondary comes after the primary
      addr('eth2', '198.18.12.8/24'),
      addr('eth2', 'fe80::2/64'),
      addr('eth3', 'fe80::3/64'), // only a link-local: IPv6 is not configured here
      addr('eth3', '2001:db8:13::3/64'),
      addr('eth3', 'fe80::33/64'),
      addr('eth4', '198.18.14.4/24'), // administratively down
      addr('eth5', 'fe80::5/64'),
      addr('eth6', '198.18.11.5/24'), // a data address of the group, not eth6's own
    ],
  );
  assert.deepEqual(anonymousMembers(v, config(false)), [
    { name: 'eth2', sources: [cidr('198.18.12.8/24')] },
    { name: 'eth3', sources: [cidr('fe80::3/64')] },
  ]);
  assert.deepEqual(anonymousMembers(v, config(true)), []);
});

test('the daemon: anonymous NICs probe from their own address with their own sockets, follow the kernel and survive a reload', async () => {
  const links = [link('eth0', 2), link('eth1', 3), link('eth2', 4)];
  const addresses = [addr('eth0', '198.18.11.6/24'), addr('eth1', '198.18.11.7/24'), addr('eth2', '198.18.11.9/24')];
  const sends: Array<{ ifname: string; source: string }> = [];
  const opened: Array<Array<{ name: string; families: Family[] }>> = [];
  let kernelChanged = () => {};
  const added: string[] = [];
  const adapters: Adapters = {
    kernel: {
      addAddress: async (device, c) => void added.push(`${c.address} on ${device}`),
      deleteAddress: async () => {},
      replaceRoute: async () => {},
    },
    view: view(links, addresses),
    announcer: { announce: async () => ({ sent: 0 }) },
    onKernelChange: (cb) => (kernelChanged = cb),
    probes: {
      send: (p) => (sends.push(p), true),
      onReplies: () => {},
      onIgnored: () => {},
      onSendError: () => {},
      keepOpen: (extra) => void opened.push(extra),
    },
    ensureTestAddresses: async () => [],
    prepare: async () => ({ added: [], commit: () => {}, rollback: async () => {} }),
    close: async () => {},
  };
  let cfg = config(false);
  await withDaemon(
    adapters,
    (adminSocket) => (cfg = { ...config(false), failureDetectionTimeMs: 700, adminSocket }),
    async (daemon) => {
      const anonymous = () => daemon.engine.snapshot().groups.find((g) => g.anonymous);
      assert.deepEqual(
        anonymous()?.interfaces.map((i) => [i.name, i.link, i.instances[0]?.testAddress]),
        [['eth2', 'up', '198.18.11.9']],
      );
      assert.deepEqual(opened.at(-1), [{ name: 'eth2', families: [4] }]);
      await new Promise((r) => setTimeout(r, 400));
      assert.ok(
        sends.some((s) => s.ifname === 'eth2' && s.source === '198.18.11.9'),
        'eth2 never probed from its own address',
      );
      assert.deepEqual(
        added.filter((a) => a.endsWith('on eth2')),
        [],
        'an address was added to eth2',
      );

      // a reload carries it over, state and all
      await daemon.reload({ ...cfg });
      assert.ok(daemon.engine.carriedInterfaces.has('eth2'));
      assert.deepEqual(
        anonymous()?.interfaces.map((i) => i.name),
        ['eth2'],
      );

      // its address goes: it leaves, and its socket with it
      addresses.splice(2, 1);
      kernelChanged();
      await new Promise((r) => setImmediate(r));
      assert.equal(anonymous(), undefined);
      assert.deepEqual(opened.at(-1), []);
      // it comes back with another: it joins again, probing from that one
      addresses.push(addr('eth2', '198.18.11.10/24'));
      kernelChanged();
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        anonymous()?.interfaces.map((i) => [i.name, i.instances[0]?.testAddress]),
        [['eth2', '198.18.11.10']],
      );
      // a NIC that is only watched never holds back /-/ready (eth2 has had no answer here)
      assert.ok(
        everyGroupHasVerdict({ at: 0, groups: [anonymous()!] }, new Set()),
        'the anonymous group held back readiness',
      );
    },
  );
});
