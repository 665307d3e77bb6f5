// The scrape buffer is reused only once released: a body still being sent is
// never written over by the next scrape.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Exporter } from '../../../src/metrics/exporter.js';
import { Sim, twoNicConfig } from '../core/sim.js';

test('a scrape body stays intact until released; a released buffer is used again', async () => {
  const sim = new Sim(twoNicConfig(), { seed: 2 });
  const exporter = new Exporter(
    () => sim.engine.snapshot(),
    (ms) => ms / 1000,
    { version: 't', revision: 't' },
  );
  sim.runFor(20_000);
  const first = await exporter.scrape();
  const firstText = first.body.toString();
  sim.runFor(20_000); // the counters move on: the next body differs
  const second = await exporter.scrape();
  assert.notEqual(second.body.buffer, first.body.buffer, 'an unreleased buffer is not reused');
  assert.equal(first.body.toString(), firstText, 'the first body is untouched by the second scrape');
  assert.notEqual(second.body.toString(), firstText);
  first.release();
  first.release(); // twice: harmless
  const third = await exporter.scrape();
  assert.equal(third.body.buffer, first.body.buffer, 'the released buffer is the next one written');
  const engineLines = (text: string) => text.split('\n').filter((l) => l.startsWith('ipmp_probe_requests_total'));
  assert.deepEqual(
    engineLines(third.body.toString()),
    engineLines(second.body.toString()),
    'same engine state, same lines',
  );
  second.release();
  third.release();
});
