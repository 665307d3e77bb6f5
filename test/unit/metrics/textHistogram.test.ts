// The hand-rendered RTT histogram and state families against prom-client's own
// rendering of the same data: same samples, same values.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gauge, Histogram, Registry } from 'prom-client';
import { RTT_BUCKETS } from '../../../src/metrics/eventMetrics.js';
import { StateFamilies } from '../../../src/metrics/stateMetrics.js';
import { TextHistogram } from '../../../src/metrics/textHistogram.js';
import { parseSamples } from '../../scenarios/metricsText.js';
import { rng } from '../../rng.js';
import type { EngineSnapshot } from '../../../src/core/snapshot.js';

const canonical = (text: string) =>
  parseSamples(text)
    .map(
      (s) =>
        `${s.name}{${Object.entries(s.labels)
          .sort()
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}} ${s.value}`,
    )
    .sort();

test('TextHistogram renders what prom-client renders for the same observations (incl. odd label values)', async () => {
  const registry = new Registry();
  const reference = new Histogram({
    name: 'ipmp_probe_rtt_seconds',
    help: 'h',
    labelNames: ['group', 'device', 'target'],
    buckets: RTT_BUCKETS,
    registers: [registry],
  });
  const ours = new TextHistogram('ipmp_probe_rtt_seconds', 'h', ['group', 'device', 'target'], RTT_BUCKETS);
  const r = rng(11);
  const groups = ['g1', 'we"ird\\name', 'new\nline'];
  for (let i = 0; i < 5000; i++) {
    const labels = { group: groups[i % 3]!, device: `eth${i % 4}`, target: `198.18.11.${i % 5}` };
    // exact bucket bounds too: "le" is inclusive
    const value = i % 17 === 0 ? RTT_BUCKETS[i % RTT_BUCKETS.length]! : r() ** 4 * 30;
    reference.observe(labels, value);
    ours.observe(labels, value);
  }
  reference.remove({ group: 'g1', device: 'eth0', target: '198.18.11.0' });
  ours.remove({ group: 'g1', device: 'eth0', target: '198.18.11.0' });
  ours.zero({ group: 'g1', device: 'eth9', target: '198.18.11.9' });
  reference.zero({ group: 'g1', device: 'eth9', target: '198.18.11.9' });
  const theirs = canonical(await registry.metrics());
  const mine = canonical(ours.render().toString());
  assert.equal(mine.length, theirs.length);
  assert.deepEqual(mine, theirs);
});

test('StateFamilies renders gauges like prom-client, a repeated label set keeps its last value', async () => {
  const registry = new Registry();
  const g = new Gauge({ name: 'ipmp_x', help: 'h', labelNames: ['group', 'device'], registers: [registry] });
  const families = new StateFamilies();
  const fill = (set: (l: { group: string; device: string }, v: number) => void) => {
    set({ group: 'a', device: 'eth0' }, 1);
    set({ group: 'a"b', device: 'eth1' }, 0.25);
    set({ group: 'a', device: 'eth0' }, 3);
  };
  families.add('gauge', 'ipmp_x', 'h', ['group', 'device'], (_s, set) => fill(set));
  fill((l, v) => g.set(l, v));
  assert.deepEqual(
    canonical(families.render({ at: 0, groups: [] } as EngineSnapshot).toString()),
    canonical(await registry.metrics()),
  );
});

test('a TextHistogram without labels renders like prom-client too', async () => {
  const registry = new Registry();
  const buckets = [0.001, 0.01, 0.1];
  const reference = new Histogram({ name: 'ipmp_x_seconds', help: 'h', buckets, registers: [registry] });
  const ours = new TextHistogram<never>('ipmp_x_seconds', 'h', [], buckets);
  for (const v of [0, 0.001, 0.005, 0.5, 0.1]) {
    reference.observe(v);
    ours.observe({}, v);
  }
  assert.deepEqual(canonical(ours.render().toString()), canonical(await registry.metrics()));
});
