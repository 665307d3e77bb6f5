// The metrics: section: RTT histogram granularity and bucket layout, their
// defaults, their errors (where and what), printed back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../src/config/errors.js';
import { RTT_BUCKET_PRESETS } from '../../../src/config/metrics.js';
import { parseConfigText } from '../../../src/config/load.js';
import { configToYaml } from '../../../src/config/print.js';

const parse = (text: string) => parseConfigText(text, 'ipmpd.yaml');

function issues(text: string): string {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  return assert.fail('accepted');
}

test('metrics: defaults to a per-target histogram with the fine buckets (20 bounds, 50 µs doubling)', () => {
  const c = parse('groups: []\n');
  assert.equal(c.metrics.rttHistogram.granularity, 'target');
  assert.deepEqual(c.metrics.rttHistogram.buckets, [...RTT_BUCKET_PRESETS.fine]);
  assert.equal(c.metrics.rttHistogram.buckets.length, 20);
  assert.equal(c.metrics.rttHistogram.buckets[0], 0.00005);
});

test('metrics.rtt_histogram: granularity, a preset or a list of bounds, printed back and parsed again to the same', () => {
  for (const [yaml, granularity, buckets] of [
    ['granularity: interface\n    buckets: coarse', 'interface', [...RTT_BUCKET_PRESETS.coarse]],
    ['granularity: "off"', 'off', [...RTT_BUCKET_PRESETS.fine]],
    ['granularity: target\n    buckets: [0.0005, 0.001, 0.005, 0.02]', 'target', [0.0005, 0.001, 0.005, 0.02]],
  ] as const) {
    const c = parse(`metrics:\n  rtt_histogram:\n    ${yaml}\n`);
    assert.equal(c.metrics.rttHistogram.granularity, granularity);
    assert.deepEqual(c.metrics.rttHistogram.buckets, buckets);
    const printed = configToYaml(c);
    assert.match(printed, new RegExp(`granularity: "?${granularity}"?`));
    assert.deepEqual(parse(printed), c);
  }
  assert.match(configToYaml(parse('metrics:\n  rtt_histogram:\n    buckets: coarse\n')), /buckets: coarse/);
});

test('metrics: bad values are errors naming the key, line and what is allowed', () => {
  assert.match(
    issues('metrics:\n  rtt_histogram:\n    granularity: device\n'),
    /^ipmpd\.yaml:3:18: metrics\.rtt_histogram\.granularity: must be target, interface or off/m,
  );
  assert.match(
    issues('metrics:\n  rtt_histogram:\n    buckets: wan\n'),
    /^ipmpd\.yaml:3:14: metrics\.rtt_histogram\.buckets: "wan" is not a preset \(fine, coarse\)/m,
  );
  assert.match(
    issues('metrics:\n  rtt_histogram:\n    buckets: [0.001, 0.01, 0.005]\n'),
    /^ipmpd\.yaml:3:28: metrics\.rtt_histogram\.buckets\[2\]: 0\.005 is not above the bound before it \(0\.01\)/m,
  );
  assert.match(
    issues('metrics:\n  rtt_histogram:\n    buckets: [0, 0.01]\n'),
    /metrics\.rtt_histogram\.buckets\[0\]: 0 is not a positive number of seconds/,
  );
  assert.match(issues('metrics:\n  rtt_histogram:\n    buckets: []\n'), /list 1 to 64 upper bounds, got 0/);
  assert.match(issues('metrics:\n  rtt_histogram:\n    buckets: ["1ms"]\n'), /buckets/);
  assert.match(issues('metrics:\n  rtt_histogram:\n    granularty: interface\n'), /unknown key "granularty"/);
  assert.match(issues('metrics:\n  rtt: {}\n'), /unknown key "rtt"/);
});
