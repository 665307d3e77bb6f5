// The incremental route table: decoding, what is kept and how, replace and
// delete semantics, and the kernel's silent IPv4 flushes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRouteMessage } from 'netlink/dist/rt/structs.js';
import { DEFAULT_FOLLOW_PROTOCOLS, protocolNumber } from '../../../src/config/routeProtocols.js';
import { toRoute } from '../../../src/net/netlink/convert.js';
import { decodeRoute } from '../../../src/net/netlink/routeDecode.js';
import { RouteTable } from '../../../src/net/netlink/routeTable.js';
import { NLM_F_REPLACE, RTM_DELROUTE, RTM_NEWROUTE } from '../../../src/net/netlink/wire.js';
import { routeMessage, type RouteSpec } from './routeMessages.js';

const BGP = 186;
const STATIC = 4;
const names = new Map([
  [2, 'eth0'],
  [3, 'eth1'],
]);
const nameOf = (i: number) => names.get(i);

function table(): RouteTable {
  const follow = new Set(DEFAULT_FOLLOW_PROTOCOLS.map(protocolNumber));
  return new RouteTable({
    keepWhole: (p) => follow.has(p),
    parseWhole: (data) => toRoute(parseRouteMessage(data), () => undefined),
  });
}
const add = (t: RouteTable, s: RouteSpec, flags = 0) => t.apply(RTM_NEWROUTE, flags, routeMessage(s));
const del = (t: RouteTable, s: RouteSpec) => t.apply(RTM_DELROUTE, 0, routeMessage(s));

test('decoding: main-table unicast routes with a gateway or a source; the rest is dropped at the header', () => {
  assert.deepEqual(
    decodeRoute(routeMessage({ dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, priority: 50, protocol: BGP })),
    {
      family: 4,
      dstLen: 32,
      tos: 0,
      protocol: BGP,
      dst: '198.19.0.1',
      dst4: 0xc6130001,
      priority: 50,
      nexthops: [{ gateway: '198.18.11.1', oif: 2 }],
      multipath: false,
    },
  );
  assert.equal(
    decodeRoute(routeMessage({ family: 6, dst: '2001:db8:ff::', dstLen: 48, type: 6, protocol: BGP })),
    undefined,
    'blackhole',
  );
  assert.equal(
    decodeRoute(routeMessage({ dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, table: 100 })),
    undefined,
    'table 100',
  );
  assert.equal(
    decodeRoute(routeMessage({ dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, table: 1000 })),
    undefined,
    'table 1000 (RTA_TABLE)',
  );
  assert.equal(
    decodeRoute(routeMessage({ dst: '198.18.11.0', dstLen: 24, oif: 2 })),
    undefined,
    'a link route without gateway or source',
  );
  const v6 = decodeRoute(routeMessage({ family: 6, gateway: 'fe80::1', oif: 3, protocol: 9 }));
  assert.deepEqual(v6?.nexthops, [{ gateway: 'fe80::1', oif: 3 }]);
  const ecmp = decodeRoute(
    routeMessage({
      nexthops: [
        { gateway: '198.18.11.1', oif: 2 },
        { gateway: '198.18.11.2', oif: 3 },
      ],
    }),
  );
  assert.equal(ecmp?.multipath, true);
  assert.deepEqual(ecmp?.nexthops, [
    { gateway: '198.18.11.1', oif: 2 },
    { gateway: '198.18.11.2', oif: 3 },
  ]);
  // malformed input never throws
  for (let n = 0; n < 60; n++)
    decodeRoute(routeMessage({ dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2 }).subarray(0, n));
});

test("a BGP table is counted per gateway; the administrator's routes are kept whole", () => {
  const t = table();
  for (let i = 0; i < 1000; i++)
    add(t, { dst: `198.19.${i >> 8}.${i & 255}`, gateway: '198.18.11.1', oif: 2, protocol: BGP });
  add(t, { gateway: '198.18.11.1', oif: 2, protocol: 3 }); // default, boot
  add(t, { dst: '198.19.64.1', gateway: '198.18.11.1', oif: 2, protocol: STATIC, priority: 50, mtu: 1400 });
  assert.equal(t.size, 1002);
  assert.equal(t.wholeSize, 2);
  const infos = t.gatewayRoutes(nameOf);
  assert.deepEqual(
    infos.map((r) => [r.gateway, r.device, r.prefixLength]),
    [
      ['198.18.11.1', 'eth0', 32],
      ['198.18.11.1', 'eth0', 0],
    ],
  );
  const whole = t.wholeRoutes(nameOf);
  const stat = whole.find((r) => r.destination === '198.19.64.1')!;
  assert.equal(stat.protocol, 'static');
  assert.equal(stat.metric, 50);
  assert.equal(stat.device, 'eth0');
  assert.ok(stat.extras, 'MTU kept for the move');
  // deleting routes: a gateway stays while any route uses it (the static host route here)
  for (let i = 0; i < 1000; i++)
    assert.equal(del(t, { dst: `198.19.${i >> 8}.${i & 255}`, gateway: '198.18.11.1', oif: 2, protocol: BGP }), false);
  assert.equal(t.gatewayRoutes(nameOf).length, 2);
  assert.equal(del(t, { dst: '198.19.64.1', gateway: '198.18.11.1', oif: 2, protocol: STATIC, priority: 50 }), true);
  assert.deepEqual(
    t.gatewayRoutes(nameOf).map((r) => r.prefixLength),
    [0],
  );
  assert.equal(t.size, 1);
});

test('replace moves a route in its slot; another metric is another slot', () => {
  const t = table();
  add(t, { dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, protocol: BGP });
  add(t, { dst: '198.19.0.1', gateway: '198.18.12.1', oif: 3, protocol: BGP }, NLM_F_REPLACE);
  assert.equal(t.size, 1);
  assert.deepEqual(
    t.gatewayRoutes(nameOf).map((r) => r.gateway),
    ['198.18.12.1'],
  );
  // same destination, another metric: another slot
  add(t, { dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, protocol: BGP, priority: 20 });
  assert.equal(t.size, 2);
  // a metric beyond the compact key's range, and a ToS: still their own slots
  add(t, { dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, protocol: BGP, priority: 100_000 });
  add(t, { dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, protocol: BGP, tos: 16 });
  assert.equal(t.size, 4);
  assert.equal(del(t, { dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, protocol: BGP, priority: 100_000 }), false);
  assert.equal(del(t, { dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, protocol: BGP, tos: 16 }), false);
  assert.equal(t.size, 2);
  assert.equal(del(t, { dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, protocol: BGP, priority: 20 }), true);
  assert.deepEqual(
    t.gatewayRoutes(nameOf).map((r) => r.gateway),
    ['198.18.12.1'],
  );
  // a notification seen twice (a dump replayed over notifications) counts once
  add(t, { dst: '198.19.0.2', gateway: '198.18.11.1', oif: 2, protocol: BGP });
  add(t, { dst: '198.19.0.2', gateway: '198.18.11.1', oif: 2, protocol: BGP });
  assert.equal(t.size, 2);
  del(t, { dst: '198.19.0.2', gateway: '198.18.11.1', oif: 2, protocol: BGP });
  assert.deepEqual(
    t.gatewayRoutes(nameOf).map((r) => r.gateway),
    ['198.18.12.1'],
  );
});

test("the kernel's silent IPv4 flushes: link down, link gone, address deleted", () => {
  const t = table();
  add(t, { dst: '198.19.0.1', gateway: '198.18.11.1', oif: 2, protocol: STATIC });
  add(t, { dst: '198.19.0.2', gateway: '198.18.11.1', oif: 3, protocol: STATIC });
  add(t, { dst: '198.19.0.3', gateway: '198.18.11.1', oif: 3, protocol: STATIC, prefsrc: '198.18.11.5' });
  add(t, { family: 6, gateway: 'fe80::1', oif: 2, protocol: 9 });
  assert.equal(t.linkAdminDown(2), true);
  assert.deepEqual(
    t.wholeRoutes(nameOf).map((r) => r.destination ?? 'default'),
    ['198.19.0.2', '198.19.0.3', 'default'],
  );
  assert.equal(t.ipv4AddressGone('198.18.11.5', 3, false), true);
  assert.deepEqual(
    t.wholeRoutes(nameOf).map((r) => r.destination ?? 'default'),
    ['198.19.0.2', 'default'],
  );
  assert.equal(t.ipv4AddressGone('198.18.11.7', 3, true), true);
  assert.deepEqual(
    t.wholeRoutes(nameOf).map((r) => r.family),
    [6],
  );
  assert.equal(t.linkGone(2), true);
  assert.equal(t.size, 0);
});

test('renamed interfaces: names are looked up when read, never stored', () => {
  const t = table();
  add(t, { gateway: '198.18.11.1', oif: 2, protocol: 3 });
  const renamed = new Map([[2, 'lan0']]);
  const lookup = (i: number) => renamed.get(i);
  assert.equal(t.gatewayRoutes(lookup)[0]!.device, 'lan0');
  assert.equal(t.wholeRoutes(lookup)[0]!.device, 'lan0');
});
