// Deadlines close together share one wake-up: the engine names the last deadline
// of a span, and one advance() at that moment serves every probe due in it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sim, twoNicConfig } from './sim.js';

test('latestDeadlineWithin: the last deadline in the span, and one advance then sends every probe due', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const sim = new Sim(twoNicConfig(), { seed });
    sim.runUntil(sim.now + 5_000 + seed * 7);
    const engine = sim.engine;
    const first = engine.nextDeadline();
    assert.ok(Number.isFinite(first));
    assert.equal(engine.latestDeadlineWithin(first, first), first, 'an empty span names its start');
    const last = engine.latestDeadlineWithin(first, first + 1_000_000);
    assert.ok(last >= first);
    // nothing is due after `last` within the span: advancing to it leaves only later deadlines
    engine.takeOutputs();
    engine.advance(last);
    const probes = engine.takeOutputs().filter((o) => o.kind === 'send_probe');
    assert.ok(probes.length >= 1, `seed ${seed}: no probe at the wake-up`);
    assert.ok(engine.nextDeadline() > last, `seed ${seed}: a deadline in the span was left for another wake-up`);
    if (last > first)
      assert.equal(new Set(probes.map((p) => p.kind === 'send_probe' && p.ifname)).size, 2, `seed ${seed}`);
    assert.deepEqual(engine.brokenInvariants(), []);
  }
});
