// Series a reload declares again must keep their values: a reload that resets
// a counter or a histogram is visible to every rate() and alert.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventMetrics } from '../../../src/metrics/eventMetrics.js';
import { familiesText } from '../../../src/metrics/textFamilies.js';

test('declaring a group again (a reload) keeps its failover counts and durations', () => {
  const metrics = new EventMetrics();
  metrics.declareGroup('g', ['eth0', 'eth1']);
  metrics.failoverDone('g', 'link', 0.02, 1000);
  metrics.announcementsSent('g', 'eth1', 4, 5);
  metrics.declareGroup('g', ['eth0', 'eth1']);
  metrics.declareGroup('h', ['eth2']);
  const text = familiesText(metrics.families);
  assert.match(text, /^ipmp_failover_duration_seconds_count\{group="g"\} 1$/m);
  assert.match(text, /^ipmp_failovers_total\{group="g",reason="link"\} 1$/m);
  assert.match(text, /^ipmp_gratuitous_arp_sent_total\{group="g",device="eth1"\} 5$/m);
  assert.match(text, /^ipmp_failover_duration_seconds_count\{group="h"\} 0$/m);
});
