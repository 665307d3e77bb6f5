// The failover executor against fake ports (no root, no kernel): the order of
// its kernel calls is the make-before-break promise, and a failed stage is
// reported with where the address really is.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Cidr } from '../../../src/config/types.js';
import type { EngineAction } from '../../../src/core/types.js';
import { FailoverExecutor, type ExecutorSettings } from '../../../src/daemon/executor.js';
import type { Announcer, KernelOps, KernelView } from '../../../src/daemon/ports.js';
import { EventMetrics } from '../../../src/metrics/eventMetrics.js';
import { cidr, twoNicConfig } from '../core/sim.js';
import { RT_TABLE_MAIN, type KernelRoute } from '../../../src/core/route.js';

const data = cidr('198.18.11.5/24');
const onEth0 = (dst: string | undefined, protocol = 'boot'): KernelRoute => ({
  family: 4,
  ...(dst ? { destination: dst } : {}),
  prefixLength: dst ? 32 : 0,
  gateway: '198.18.11.1',
  device: 'eth0',
  table: RT_TABLE_MAIN,
  type: 'unicast',
  protocol,
});

/** A kernel that records every call, in order, and holds addresses like Linux does. */
function fakeHost(opts: { failAdd?: boolean } = {}) {
  const calls: string[] = [];
  const holders = new Map<string, string[]>([[data.address, ['eth0']]]);
  const routes: KernelRoute[] = [onEth0(undefined), onEth0('198.19.0.1', 'static')];
  const kernel: KernelOps = {
    addAddress: async (device: string, c: Cidr) => {
      calls.push(`add ${c.address} ${device}`);
      if (opts.failAdd) throw new Error('EACCES');
      holders.set(c.address, [...(holders.get(c.address) ?? []), device]);
    },
    deleteAddress: async (device: string, c: Cidr) => {
      calls.push(`del ${c.address} ${device}`);
      holders.set(
        c.address,
        (holders.get(c.address) ?? []).filter((d) => d !== device),
      );
    },
    replaceRoute: async (r: KernelRoute) => {
      // a route is only written while the address is on the new device: never on zero NICs
      assert.ok(
        (holders.get(data.address) ?? []).includes(r.device!),
        `route for ${r.device} written before the address was there`,
      );
      calls.push(`route ${r.destination ?? 'default'} ${r.device}`);
    },
  };
  const view: KernelView = {
    links: () => [],
    addresses: () => [],
    holdersOf: (address) => [...(holders.get(address) ?? [])],
    routes: () => routes,
    gatewayRoutes: () => [],
  };
  const announcer: Announcer = {
    announce: async (device, c, count) => {
      calls.push(`announce ${c.address} ${device}`);
      return { sent: count };
    },
  };
  return { calls, kernel, view, announcer };
}

function executor(host: ReturnType<typeof fakeHost>, onSettled: (ok: boolean, holders: string[]) => void) {
  const base = twoNicConfig();
  const settings: ExecutorSettings = {
    announce: { ...base.announce, secondBurstAfterMs: 0 },
    followRouteProtocols: base.followRouteProtocols,
  };
  return new FailoverExecutor(
    host.kernel,
    host.view,
    host.announcer,
    () => settings,
    new EventMetrics(),
    pino({ level: 'silent' }),
    {
      settled: (_address, ok, holders) => onSettled(ok, holders),
      moved: (m) => host.calls.push(`moved ${m.address.address} ${m.to}`),
    },
  );
}

const move = (from: string, to: string): Extract<EngineAction, { kind: 'move_address' }> => ({
  kind: 'move_address',
  group: 'unrealgrp1',
  address: data,
  from,
  to,
  reason: 'link',
  decidedAt: 0,
});

test('a move is make-before-break: add, subnet and default routes, delete, announce; the other routes follow after the move is reported', async () => {
  const host = fakeHost();
  let settled: { ok: boolean; holders: string[] } | undefined;
  const ex = executor(host, (ok, holders) => (settled = { ok, holders }));
  ex.submit(move('eth0', 'eth1'));
  await ex.idle();
  assert.deepEqual(host.calls, [
    'add 198.18.11.5 eth1',
    'route 198.18.11.0 eth1', // the data subnet, then the default route: what most traffic needs
    'route default eth1',
    'del 198.18.11.5 eth0',
    'announce 198.18.11.5 eth1',
    'moved 198.18.11.5 eth1',
    'route 198.19.0.1 eth1', // a route through the data subnet's gateway: after the address moved
  ]);
  assert.deepEqual(settled, { ok: true, holders: ['eth1'] });
});

test('a failed add leaves the address where it was and settles the move as failed, touching nothing else', async () => {
  const host = fakeHost({ failAdd: true });
  let settled: { ok: boolean; holders: string[] } | undefined;
  const ex = executor(host, (ok, holders) => (settled = { ok, holders }));
  ex.submit(move('eth0', 'eth1'));
  await ex.idle();
  assert.deepEqual(host.calls, ['add 198.18.11.5 eth1']);
  assert.deepEqual(settled, { ok: false, holders: ['eth0'] });
});
