// announce.refresh_interval: held addresses re-announced, one packet each, off
// the failover path.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Cidr } from '../../../src/config/types.js';
import { AnnounceRefresher, heldAddresses } from '../../../src/daemon/announceRefresh.js';
import { EventMetrics } from '../../../src/metrics/eventMetrics.js';
import { familiesText } from '../../../src/metrics/textFamilies.js';
import { cidr, Sim, twoNicConfig } from '../core/sim.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('held addresses: on their holder in the engine and in the kernel, not moving', () => {
  const sim = new Sim(twoNicConfig(), { seed: 1 });
  sim.runFor(1000);
  const view = (device: string) => ({
    links: () => [],
    routes: () => [],
    gatewayRoutes: () => [],
    holdersOf: () => [device],
    addresses: () => [{ device, cidr: cidr('198.18.11.5/24'), secondary: true, noprefixroute: false }],
  });
  assert.deepEqual(heldAddresses(sim.engine.snapshot(), view('eth0')), [
    { group: 'unrealgrp1', device: 'eth0', cidr: cidr('198.18.11.5/24') },
  ]);
  assert.deepEqual(
    heldAddresses(sim.engine.snapshot(), view('eth1')),
    [],
    'announced where the kernel does not have it',
  );
});

test('refresher: one packet per held address per interval, none during a failover, stopped by 0', async () => {
  const sent: Array<{ device: string; address: string; count: number }> = [];
  const a = cidr('198.18.11.5/24');
  const b = cidr('198.18.11.8/24');
  let moving: Promise<void> = Promise.resolve();
  const events = new EventMetrics();
  const r = new AnnounceRefresher({
    announcer: {
      announce: async (device: string, c: Cidr, count: number) => (
        sent.push({ device, address: c.address, count }),
        { sent: count }
      ),
    },
    metrics: events,
    log: pino({ level: 'silent' }),
    held: () => [
      { group: 'g', device: 'eth0', cidr: a },
      { group: 'g', device: 'eth1', cidr: b },
    ],
    quiet: () => moving,
  });
  r.set(50);
  await sleep(275);
  const n = sent.length;
  assert.ok(n >= 8 && n <= 12, `${n} announcements in 275 ms at 50 ms for 2 addresses`);
  assert.ok(sent.every((s) => s.count === 1));
  assert.equal(sent.filter((s) => s.device === 'eth0').length, sent.filter((s) => s.device === 'eth1').length);
  const garp = Number(
    /^ipmp_gratuitous_arp_sent_total\{group="[^"]*",device="eth0"\} (\S+)$/m.exec(familiesText(events.families))![1],
  );
  assert.equal(garp, sent.filter((s) => s.device === 'eth0').length);

  let release!: () => void;
  moving = new Promise((res) => (release = res));
  const before = sent.length;
  await sleep(200);
  assert.equal(sent.length, before, 'announced during a failover');
  release();
  await sleep(20);
  assert.equal(sent.length, before + 2, 'the waiting refresh went out once, not once per missed interval');
  r.set(0);
  const stopped = sent.length;
  await sleep(150);
  assert.equal(sent.length, stopped);
});
