// The convergence watch: what it opens, when it re-announces, what it records.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Cidr } from '../../../src/config/types.js';
import { monotonicMs } from '../../../src/daemon/clock.js';
import { ConvergenceWatch } from '../../../src/daemon/convergence.js';
import type { EngineAction } from '../../../src/core/types.js';
import { ConvergenceMetrics } from '../../../src/metrics/convergenceMetrics.js';
import { EventMetrics } from '../../../src/metrics/eventMetrics.js';
import { familiesText } from '../../../src/metrics/textFamilies.js';
import { cidr } from '../core/sim.js';

type Move = Extract<EngineAction, { kind: 'move_address' }>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(opts: { untilTrafficMs: number; held?: () => boolean }) {
  const events = new EventMetrics();
  const opened: Array<{ device: string; address: string; arrive: (ms: number) => void; closed: boolean }> = [];
  const announced: Array<{ device: string; address: string; count: number }> = [];
  let watch: ConvergenceWatch | undefined;
  const metrics = new ConvergenceMetrics();
  metrics.silentFrom(() => watch?.silent() ?? []);
  metrics.declareGroup('g', ['eth0', 'eth1']);
  watch = new ConvergenceWatch({
    arrivals: {
      watch(device, address, onArrival) {
        const w = { device, address, arrive: onArrival, closed: false };
        opened.push(w);
        return { close: () => void (w.closed = true) };
      },
    },
    announcer: {
      announce: async (device: string, c: Cidr, count: number) => (
        announced.push({ device, address: c.address, count }),
        { sent: count }
      ),
    },
    events,
    metrics,
    log: pino({ level: 'silent' }),
    untilTrafficMs: () => opts.untilTrafficMs,
    stillHeld: opts.held ?? (() => true),
    firstReannounceMs: 20,
  });
  const text = () => familiesText([...events.families, ...metrics.families]);
  return { watch, opened, announced, text };
}

const move = (reason: Move['reason'], to: string, decidedAt = monotonicMs()): Move =>
  ({ kind: 'move_address', group: 'g', address: cidr('198.18.11.5/24'), from: 'eth0', to, reason, decidedAt }) as Move;

test('a first placement is not watched; a failover is, on its new NIC', () => {
  const { watch, opened } = setup({ untilTrafficMs: 0 });
  watch.moved(move('placement' as Move['reason'], 'eth0'));
  assert.equal(opened.length, 0);
  assert.deepEqual(watch.silent(), []);
  watch.moved(move('link', 'eth1'));
  assert.deepEqual(
    opened.map((o) => [o.device, o.address]),
    [['eth1', '198.18.11.5']],
  );
  assert.equal(watch.silent().length, 1);
  watch.stop();
  assert.ok(opened[0]!.closed);
});

test('silent: re-announced 1x, 2x, 4x the first delay after the move, one packet each, within until_traffic; then no more', async () => {
  const { watch, announced, text: exposition } = setup({ untilTrafficMs: 100 });
  watch.moved(move('link', 'eth1'));
  await sleep(250);
  assert.deepEqual(
    announced,
    [20, 40, 80].map(() => ({ device: 'eth1', address: '198.18.11.5', count: 1 })),
  );
  const text = exposition();
  assert.match(text, /ipmp_silent_reannouncements_total\{group="g",device="eth1"\} 3/);
  assert.match(text, /ipmp_gratuitous_arp_sent_total\{group="g",device="eth1"\} 3/);
  const [silent] = watch.silent();
  assert.ok(silent!.seconds >= 0.25, `silent ${silent!.seconds} s`);
  watch.stop();
});

test('an address no longer held (a move under way) is not re-announced', async () => {
  const { watch, announced } = setup({ untilTrafficMs: 100, held: () => false });
  watch.moved(move('probe', 'eth1'));
  await sleep(100);
  assert.deepEqual(announced, []);
  watch.stop();
});

test('the first packet: convergence from the decision recorded once, the gauge 0, the watch closed, no more re-announcements', async () => {
  const { watch, opened, announced, text: exposition } = setup({ untilTrafficMs: 1000 });
  const decidedAt = monotonicMs() - 5;
  watch.moved(move('link', 'eth1', decidedAt));
  await sleep(30);
  assert.equal(announced.length, 1);
  opened[0]!.arrive(decidedAt + 42);
  opened[0]!.arrive(decidedAt + 50);
  assert.ok(opened[0]!.closed);
  assert.deepEqual(watch.silent(), [{ group: 'g', address: '198.18.11.5', seconds: 0 }]);
  await sleep(60);
  assert.equal(announced.length, 1);
  const text = exposition();
  assert.match(text, /ipmp_failover_convergence_seconds_count\{group="g"\} 1/);
  assert.match(text, /ipmp_failover_convergence_seconds_sum\{group="g"\} 0\.042/);
  assert.match(text, /ipmp_address_inbound_silent_seconds\{group="g",ip_address="198\.18\.11\.5"\} 0/);
  watch.stop();
});

test('a second move replaces the watch: the old one is closed and its late packet counts for nothing', () => {
  const { watch, opened } = setup({ untilTrafficMs: 0 });
  watch.moved(move('link', 'eth1'));
  watch.moved(move('failback', 'eth0'));
  assert.ok(opened[0]!.closed);
  opened[0]!.arrive(monotonicMs());
  assert.ok(watch.silent()[0]!.seconds > 0, 'still silent: that packet reached the old NIC');
  assert.equal(opened[1]!.device, 'eth0');
  opened[1]!.arrive(monotonicMs());
  assert.equal(watch.silent()[0]!.seconds, 0);
  watch.stop();
});

test('a reload that drops an address (or moves it to another group) ends its watch and its series', () => {
  const { watch, opened } = setup({ untilTrafficMs: 0 });
  watch.moved(move('link', 'eth1'));
  watch.retain(new Set(['g 198.18.11.5']));
  assert.equal(watch.silent().length, 1);
  watch.retain(new Set(['other 198.18.11.5']));
  assert.deepEqual(watch.silent(), []);
  assert.ok(opened[0]!.closed);
});
