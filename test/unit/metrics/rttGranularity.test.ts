// metrics.rtt_histogram in the exposition: per target, per interface (every
// target's round trips in one series), off (no family at all), and the bucket
// layout; the smoothed RTT and deviation stay per target in every mode.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RTT_BUCKET_PRESETS } from '../../../src/config/metrics.js';
import type { MetricsConfig } from '../../../src/config/types.js';
import { Exporter } from '../../../src/metrics/exporter.js';
import { parseSamples } from '../../scenarios/metricsText.js';
import { Sim, twoNicConfig } from '../core/sim.js';

type Rtt = MetricsConfig['rttHistogram'];
const FINE: Rtt = { granularity: 'target', buckets: [...RTT_BUCKET_PRESETS.fine], preset: 'fine' };

/** Two NICs probing two targets for a minute, the exporter fed as the daemon feeds it. */
async function exposition(settings: Rtt, reconfigure?: Rtt) {
  const sim = new Sim(twoNicConfig({}, { probeTargets: ['198.18.11.1', '198.18.11.2'] }), { seed: 5 });
  const exporter = new Exporter(
    () => sim.engine.snapshot(),
    (ms) => ms / 1000,
    { version: 't', revision: 't' },
  );
  exporter.events.rtt.configure(settings);
  sim.runFor(30_000);
  for (const { output } of sim.log.splice(0)) exporter.events.onEngineOutput(output);
  if (reconfigure) exporter.events.rtt.configure(reconfigure);
  sim.runFor(30_000);
  for (const { output } of sim.log.splice(0)) exporter.events.onEngineOutput(output);
  const scrape = await exporter.scrape();
  const text = scrape.body.toString();
  scrape.release();
  const samples = parseSamples(text);
  return {
    text,
    rtt: samples.filter((s) => s.name.startsWith('ipmp_probe_rtt_seconds')),
    smoothed: samples.filter((s) => s.name === 'ipmp_probe_rtt_smoothed_seconds'),
    deviation: samples.filter((s) => s.name === 'ipmp_probe_rtt_deviation_seconds'),
    requests: samples.filter((s) => s.name === 'ipmp_probe_requests_total'),
  };
}

const labelSets = (samples: Array<{ labels: Record<string, string> }>) =>
  [...new Set(samples.map((s) => JSON.stringify(Object.keys(s.labels).sort())))].sort();

test('per target (the default): one histogram per group, device and target', async () => {
  const e = await exposition(FINE);
  const counts = e.rtt.filter((s) => s.name === 'ipmp_probe_rtt_seconds_count');
  assert.equal(counts.length, 4); // 2 NICs x 2 targets
  assert.deepEqual(labelSets(counts), [JSON.stringify(['device', 'group', 'target'])]);
  // 20 bounds and +Inf per series
  assert.equal(e.rtt.filter((s) => s.name.endsWith('_bucket')).length, 4 * 21);
  assert.ok(counts.every((s) => s.value > 0));
  assert.equal(e.smoothed.length, 4);
  assert.equal(e.deviation.length, 4);
});

test('per interface: one histogram per group and device, holding every target’s round trips', async () => {
  const perTarget = await exposition(FINE);
  const e = await exposition({ ...FINE, granularity: 'interface' });
  const counts = e.rtt.filter((s) => s.name === 'ipmp_probe_rtt_seconds_count');
  assert.equal(counts.length, 2);
  assert.deepEqual(labelSets(counts), [JSON.stringify(['device', 'group'])]);
  for (const c of counts) {
    const sum = perTarget.rtt
      .filter((s) => s.name === 'ipmp_probe_rtt_seconds_count' && s.labels.device === c.labels.device)
      .reduce((n, s) => n + s.value, 0);
    assert.equal(c.value, sum, `${c.labels.device}: the same simulation's per-target counts added up`);
  }
  assert.equal(e.rtt.filter((s) => s.name.endsWith('_bucket')).length, 2 * 21);
  // the estimator's gauges stay per target
  assert.equal(e.smoothed.length, 4);
  assert.deepEqual(labelSets(e.smoothed), [JSON.stringify(['device', 'group', 'target'])]);
});

test('off: no ipmp_probe_rtt_seconds family at all; smoothed RTT and deviation still per target', async () => {
  const e = await exposition({ ...FINE, granularity: 'off' });
  assert.equal(e.rtt.length, 0);
  assert.doesNotMatch(e.text, /ipmp_probe_rtt_seconds\b/);
  assert.equal(e.smoothed.length, 4);
  assert.equal(e.deviation.length, 4);
  assert.ok(
    e.requests.every((s) => s.value > 0),
    'probing goes on',
  );
});

test('buckets: a preset or a list sets the le bounds of every series', async () => {
  const coarse = await exposition({ granularity: 'target', buckets: [...RTT_BUCKET_PRESETS.coarse], preset: 'coarse' });
  const les = (e: Awaited<ReturnType<typeof exposition>>) => [
    ...new Set(e.rtt.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le)),
  ];
  assert.deepEqual(les(coarse), ['0.0001', '0.00025', '0.001', '0.0025', '0.01', '0.025', '0.1', '0.25', '1', '+Inf']);
  const list = await exposition({ granularity: 'interface', buckets: [0.0002, 0.002] });
  assert.deepEqual(les(list), ['0.0002', '0.002', '+Inf']);
});

test('a reload that changes the setting takes effect: the series start over in the new shape', async () => {
  const e = await exposition(FINE, { ...FINE, granularity: 'interface', buckets: [0.001] });
  const counts = e.rtt.filter((s) => s.name === 'ipmp_probe_rtt_seconds_count');
  assert.deepEqual(labelSets(counts), [JSON.stringify(['device', 'group'])]);
  assert.equal(e.rtt.filter((s) => s.name.endsWith('_bucket')).length, 2 * 2);
  const unchanged = await exposition(FINE, { ...FINE });
  const full = await exposition(FINE);
  assert.deepEqual(
    unchanged.rtt.filter((s) => s.name === 'ipmp_probe_rtt_seconds_count'),
    full.rtt.filter((s) => s.name === 'ipmp_probe_rtt_seconds_count'),
    'the same setting again (any reload) keeps the counts',
  );
});
