// The hand-rendered RTT histogram and state families against prom-client's own
// rendering of the same data: same samples, same values.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RTT_BUCKETS } from '../../../src/metrics/eventMetrics.js';
import { ExpositionBuffer, valueText } from '../../../src/metrics/exposition.js';
import { StateFamilies, stateFamilyTable } from '../../../src/metrics/stateMetrics.js';
import { familiesText, TextMetric } from '../../../src/metrics/textFamilies.js';
import { TextHistogram } from '../../../src/metrics/textHistogram.js';
import { parseSamples } from '../../scenarios/metricsText.js';
import { rng } from '../../rng.js';
import type { EngineSnapshot } from '../../../src/core/snapshot.js';
import { Sim, twoNicConfig } from '../core/sim.js';

const text = (render: (out: ExpositionBuffer) => void) => {
  const out = new ExpositionBuffer(16);
  render(out);
  return out.view().toString();
};

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
    buckets: [...RTT_BUCKETS],
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
  const mine = canonical(text((out) => ours.render(out)));
  assert.equal(mine.length, theirs.length);
  assert.deepEqual(mine, theirs);
});

test('the state table renders what prom-client gauges and counters set from the same snapshot render', async () => {
  // odd names: escaping, and a group without members
  const sim = new Sim(twoNicConfig({}, { name: 'we"ird\\grp', probeTargets: ['198.18.11.1', '198.18.11.2'] }), {
    seed: 3,
  });
  sim.runFor(60_000);
  sim.setLink('eth0', false);
  sim.runFor(5_000);
  const snapshot = sim.engine.snapshot();
  const table = stateFamilyTable((ms) => 1_700_000_000 + ms / 1000);
  const registry = new Registry();
  // the reference: each family's rows walked here, by hand, into prom-client metrics
  for (const f of table) {
    const labelsOf = (row: Record<string, unknown>): Record<string, string> => {
      const r = row as {
        g: { name: string };
        i?: { name: string };
        t?: { address: string };
        a?: { address: { address: string } };
      };
      return {
        group: r.g.name,
        ...(f.scope === 'target' || f.scope === 'interface' ? { device: r.i!.name } : {}),
        ...(f.scope === 'target' ? { target: r.t!.address } : {}),
        ...(f.scope === 'address' || f.scope === 'holder' ? { ip_address: r.a!.address.address } : {}),
        ...(f.scope === 'holder' ? { device: r.i!.name } : {}),
      };
    };
    const rows: Array<Record<string, unknown>> = [];
    for (const g of snapshot.groups) {
      if (f.scope === 'group') rows.push({ g });
      for (const i of g.interfaces) {
        if (f.scope === 'interface') rows.push({ g, i });
        for (const inst of i.instances) for (const t of inst.targets) if (f.scope === 'target') rows.push({ g, i, t });
      }
      for (const a of g.addresses) {
        if (f.scope === 'address') rows.push({ g, a });
        if (f.scope === 'holder') for (const i of g.interfaces) rows.push({ g, a, i });
      }
    }
    const extra = f.each ? [f.each.label] : [...(f.info?.labels ?? [])];
    const names = [
      ...Object.keys(
        labelsOf(rows[0] ?? { g: { name: '' }, i: { name: '' }, t: { address: '' }, a: { address: { address: '' } } }),
      ),
      ...extra,
    ];
    const metric =
      f.type === 'counter'
        ? new Counter({ name: f.name, help: f.help, labelNames: names, registers: [registry] })
        : new Gauge({ name: f.name, help: f.help, labelNames: names, registers: [registry] });
    const value = f.value as (row: unknown, each: string) => number | undefined;
    for (const row of rows) {
      const base = labelsOf(row);
      const set = (labels: Record<string, string>, v: number | undefined) => {
        if (v === undefined) return;
        if (metric instanceof Counter) metric.inc(labels, v);
        else metric.set(labels, v);
      };
      if (f.each) for (const e of f.each.values) set({ ...base, [f.each.label]: e }, value(row, e));
      else if (f.info) {
        const values = (f.info.of as (row: unknown) => string[])(row);
        set({ ...base, ...Object.fromEntries(f.info.labels.map((l, k) => [l, values[k]!])) }, value(row, ''));
      } else set(base, value(row, ''));
    }
  }
  const ours = text((out) => new StateFamilies(table).render(snapshot, out));
  assert.ok(ours.includes('group="we\\"ird\\\\grp"'), 'label values escaped');
  assert.deepEqual(canonical(ours), canonical(await registry.metrics()));
});

test('ExpositionBuffer writes every number as String() does, NaN and infinities as the exposition spells them', () => {
  const values = [
    0,
    -0,
    1,
    7,
    10,
    99,
    100,
    12345,
    -3,
    -120,
    2 ** 53 - 1,
    2 ** 53,
    1e21,
    0.1,
    1e-7,
    -2.5e-3,
    NaN,
    Infinity,
    -Infinity,
    1700000150.25,
  ];
  const out = new ExpositionBuffer(4);
  for (const v of values) {
    out.number(v);
    out.newline();
  }
  assert.deepEqual(out.view().toString().split('\n').slice(0, -1), values.map(valueText));
  out.reset();
  out.text('é"\n');
  assert.equal(out.view().toString(), 'é"\n', 'reset starts over; text is UTF-8');
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
  assert.deepEqual(canonical(text((out) => ours.render(out))), canonical(await registry.metrics()));
});

test('counters, gauges and le-first histograms in the registry layout are byte-for-byte what prom-client writes', async () => {
  const registry = new Registry();
  const registers = [registry];
  const theirs = {
    c: new Counter({ name: 'ipmp_c_total', help: 'c', labelNames: ['group', 'reason'], registers }),
    g: new Gauge({ name: 'ipmp_g', help: 'g', labelNames: ['group'], registers }),
    h: new Histogram({ name: 'ipmp_h_seconds', help: 'h', labelNames: ['group'], buckets: [0.001, 0.5, 2], registers }),
    empty: new Counter({ name: 'ipmp_e_total', help: 'e', labelNames: ['group'], registers }),
    plain: new Gauge({ name: 'ipmp_p', help: 'p', registers }),
  };
  const ours = {
    c: new TextMetric<'group' | 'reason'>('ipmp_c_total', 'c', 'counter', ['group', 'reason']),
    g: new TextMetric<'group'>('ipmp_g', 'g', 'gauge', ['group']),
    h: new TextHistogram<'group'>('ipmp_h_seconds', 'h', ['group'], [0.001, 0.5, 2], true),
    empty: new TextMetric<'group'>('ipmp_e_total', 'e', 'counter', ['group']),
    plain: new TextMetric<never>('ipmp_p', 'p', 'gauge', []),
  };
  for (const group of ['g1', 'we"ird\\grp', 'new\nline']) {
    for (const reason of ['link', 'probe']) {
      theirs.c.inc({ group, reason }, 0);
      ours.c.inc({ group, reason }, 0);
    }
    theirs.h.zero({ group });
    ours.h.zero({ group });
  }
  const r = rng(5);
  for (let i = 0; i < 200; i++) {
    const group = ['g1', 'we"ird\\grp', 'g3'][i % 3]!;
    const v = r() * 3;
    theirs.c.inc({ group, reason: 'link' }, i % 4);
    ours.c.inc({ group, reason: 'link' }, i % 4);
    theirs.g.set({ group }, v * 1e9);
    ours.g.set({ group }, v * 1e9);
    theirs.h.observe({ group }, v);
    ours.h.observe({ group }, v);
  }
  theirs.plain.set(0.25);
  ours.plain.set({}, 0.25);
  assert.equal(familiesText([ours.c, ours.g, ours.h, ours.empty, ours.plain]), await registry.metrics());
});
