// The short fault campaign for CI (the 1000-step one is `npm run bench -- campaign`).
// A fixed seed replays exactly; IPMPD_CAMPAIGN_SEED / IPMPD_CAMPAIGN_STEPS change it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCampaign } from './campaign.js';

test(
  'seeded fault campaign: addresses always end on exactly one healthy NIC, never two, restarts converge within FDT',
  { timeout: 20 * 60_000 },
  async () => {
    const seed = Number(process.env.IPMPD_CAMPAIGN_SEED ?? 20261125);
    const steps = Number(process.env.IPMPD_CAMPAIGN_STEPS ?? 40);
    const report = await runCampaign({
      seed,
      steps,
      fdtMs: 1000,
      log: (l) => process.env.IPMPD_TEST_LOG && process.stderr.write(`${l}\n`),
    });
    assert.equal(report.steps, steps);
    assert.deepEqual(report.violations, [], `seed ${seed}: ${report.violations.slice(0, 10).join('\n')}`);
    // the campaign must have exercised the faults it claims to
    for (const action of ['flap', 'silent', 'loss', 'target', 'remove', 'rename', 'kill'])
      assert.ok((report.counts[action] ?? 0) > 0, `seed ${seed} never ran ${action}: ${JSON.stringify(report.counts)}`);
    assert.ok(report.restartConvergeMs.length > 0);
  },
);
