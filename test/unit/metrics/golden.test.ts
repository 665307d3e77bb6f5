// The /metrics exposition of a simulated engine, compared with a committed
// file: a renamed metric, a new label or a changed help text shows up in the
// diff under review. UPDATE_GOLDEN=1 rewrites the file; promtool lints it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EventMetrics } from '../../../src/metrics/eventMetrics.js';
import { ExpositionBuffer } from '../../../src/metrics/exposition.js';
import { renderFamilies } from '../../../src/metrics/textFamilies.js';
import { StateFamilies, stateFamilyTable } from '../../../src/metrics/stateMetrics.js';
import { Sim, twoNicConfig } from '../core/sim.js';

const GOLDEN = fileURLToPath(new URL('../../../../test/fixtures/metrics.golden.txt', import.meta.url));

/** Two NICs probing a gateway; eth0's link is cut and the address fails over: every family has series. */
async function exposition(): Promise<string> {
  const sim = new Sim(twoNicConfig(), { seed: 7 });
  sim.runFor(120_000);
  sim.setLink('eth0', false);
  sim.runFor(30_000);
  const state = new StateFamilies(stateFamilyTable((ms) => 1_700_000_000 + ms / 1000)); // a fixed wall clock
  const events = new EventMetrics();
  events.failoverDone('unrealgrp1', 'link', 0.012, 1_700_000_150);
  events.announcementsSent('unrealgrp1', 'eth1', 4, 5);
  const out = new ExpositionBuffer(64); // small: growing the buffer is part of what is tested
  renderFamilies(out, events.families, false); // (the exporter writes prom-client's process metrics before them)
  state.render(sim.engine.snapshot(), out);
  events.rtt.render(out);
  events.lateness.render(out);
  return out.view().toString();
}

test('the /metrics exposition of a simulated failover matches test/fixtures/metrics.golden.txt', async () => {
  const text = await exposition();
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
  assert.equal(
    text,
    readFileSync(GOLDEN, 'utf8'),
    'metrics changed: review, then rerun with UPDATE_GOLDEN=1 to accept',
  );
});

test('the golden exposition passes promtool check metrics', () => {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: readFileSync(GOLDEN) });
  assert.equal(r.error, undefined, 'promtool must be installed');
  assert.equal(r.status, 0, `${r.stdout.toString()}${r.stderr.toString()}`);
});
