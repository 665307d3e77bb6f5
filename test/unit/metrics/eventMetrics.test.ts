// Series a reload declares again must keep their values: a reload that resets
// a counter or a histogram is visible to every rate() and alert.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { EventMetrics } from '../../../src/metrics/eventMetrics.js';

test('declaring a group again (a reload) keeps its failover counts and durations', async () => {
  const registry = new Registry();
  const metrics = new EventMetrics(registry);
  metrics.declareGroup('g', ['eth0', 'eth1']);
  metrics.failoverDone('g', 'link', 0.02, 1000);
  metrics.announcementsSent('g', 'eth1', 4, 5);
  metrics.declareGroup('g', ['eth0', 'eth1']);
  metrics.declareGroup('h', ['eth2']);
  const text = await registry.metrics();
  assert.match(text, /^ipmp_failover_duration_seconds_count\{group="g"\} 1$/m);
  assert.match(text, /^ipmp_failovers_total\{group="g",reason="link"\} 1$/m);
  assert.match(text, /^ipmp_gratuitous_arp_sent_total\{group="g",device="eth1"\} 5$/m);
  assert.match(text, /^ipmp_failover_duration_seconds_count\{group="h"\} 0$/m);
});
