// Which routes follow a data address: by gateway or source, and by owner.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_FOLLOW_PROTOCOLS, canonicalProtocol, protocolNumber } from '../../../src/config/routeProtocols.js';
import { routesToMove } from '../../../src/daemon/routesToFollow.js';
import { cidr } from '../core/sim.js';
import { RT_TABLE_MAIN, type KernelRoute } from '../../../src/core/route.js';

const data = cidr('198.18.11.5/24');
const via = (dst: string | undefined, protocol: string, extra: Partial<KernelRoute> = {}): KernelRoute => ({
  family: 4,
  ...(dst ? { destination: dst } : {}),
  prefixLength: dst ? 32 : 0,
  gateway: '198.18.11.1',
  device: 'eth0',
  table: RT_TABLE_MAIN,
  type: 'unicast',
  protocol,
  ...extra,
});

test("a routing daemon owns its routes: only the administrator's and the boot configuration's follow", () => {
  const table = [
    via(undefined, 'boot'),
    via('198.19.0.1', 'static'),
    via('198.19.0.2', 'dhcp'),
    via('198.19.0.3', 'bgp'),
    via('198.19.0.4', 'ospf'),
    via('198.19.0.5', 'bird'),
    via('198.19.0.6', 'zebra'),
    via('198.19.0.7', '0'),
    via('198.19.0.8', 'static', { gateway: '198.18.12.1' }), // gateway outside the data subnet
    via('198.19.0.9', 'static', { table: 100 }),
    via('198.19.0.10', 'static', { device: 'eth1' }),
  ];
  const moved = routesToMove(table, data, 'eth0', DEFAULT_FOLLOW_PROTOCOLS).map((r) => r.destination ?? 'default');
  assert.deepEqual(moved, ['default', '198.19.0.1', '198.19.0.2']);
  // configurable: an operator who wants bgp routes to follow says so
  const withBgp = routesToMove(table, data, 'eth0', [...DEFAULT_FOLLOW_PROTOCOLS, 'bgp']).map(
    (r) => r.destination ?? 'default',
  );
  assert.deepEqual(withBgp, ['default', '198.19.0.1', '198.19.0.2', '198.19.0.3']);
});

test('a kernel prefix route stays (it follows its address); a route by source address follows whatever its gateway', () => {
  const prefix: KernelRoute = {
    family: 4,
    destination: '198.18.11.0',
    prefixLength: 24,
    device: 'eth0',
    prefsrc: '198.18.11.5',
    table: RT_TABLE_MAIN,
    type: 'unicast',
    protocol: 'kernel',
    scope: 'link',
  };
  const bySource = via('198.19.1.1', 'static', { gateway: '198.18.99.1', prefsrc: '198.18.11.5' });
  assert.deepEqual(routesToMove([prefix, bySource], data, 'eth0', DEFAULT_FOLLOW_PROTOCOLS), [bySource]);
});

test('route origins by name or number, as iproute2 names them', () => {
  assert.equal(canonicalProtocol('BGP'), 'bgp');
  assert.equal(canonicalProtocol(186), 'bgp');
  assert.equal(canonicalProtocol('186'), 'bgp');
  assert.equal(canonicalProtocol(250), '250');
  assert.equal(canonicalProtocol(256), undefined);
  assert.equal(canonicalProtocol('quagga'), undefined);
  assert.equal(protocolNumber('bgp'), 186);
  assert.equal(protocolNumber('250'), 250);
  assert.equal(protocolNumber(undefined), 4);
});
