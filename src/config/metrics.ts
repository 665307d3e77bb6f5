// The `metrics:` section: how much of the probe RTT distribution ipmpd exports.
// At fleet scale the per-target RTT histogram is most of a host's series (a
// 2-NIC host with 5 targets: 230 of them), so it can be summed per interface
// or left out, and its buckets chosen; the smoothed RTT and its deviation stay
// per target whatever is chosen.

import type { MetricsConfig, RttHistogramGranularity } from './types.js';

export const RTT_GRANULARITIES = ['target', 'interface', 'off'] as const satisfies readonly RttHistogramGranularity[];

/** Named bucket layouts (upper bounds in seconds; +Inf is always added). */
export const RTT_BUCKET_PRESETS = {
  /** 50 µs doubling to ~26 s (20 bounds): LAN and WAN round trips alike, as smokeping_prober. */
  fine: Array.from({ length: 20 }, (_, i) => 0.00005 * 2 ** i),
  /** 100 µs to 1 s in 1-2.5 steps (9 bounds): a LAN or a WAN at a factor of ~3 resolution. */
  coarse: [0.0001, 0.00025, 0.001, 0.0025, 0.01, 0.025, 0.1, 0.25, 1],
} as const satisfies Record<string, readonly number[]>;
export type RttBucketPreset = keyof typeof RTT_BUCKET_PRESETS;

export const DEFAULT_METRICS: MetricsConfig = {
  rttHistogram: { granularity: 'target', buckets: [...RTT_BUCKET_PRESETS.fine], preset: 'fine' },
};

const MAX_BUCKETS = 64;

type Report = (path: (string | number)[], message: string) => void;

/** The bucket bounds a `buckets:` value means, or undefined (reported) if it means none. */
export function rttBuckets(
  value: string | number[] | undefined,
  report: Report,
): Pick<MetricsConfig['rttHistogram'], 'buckets' | 'preset'> {
  const path = ['metrics', 'rtt_histogram', 'buckets'];
  const fallback = { buckets: [...RTT_BUCKET_PRESETS.fine], preset: 'fine' as const };
  if (value === undefined) return fallback;
  if (typeof value === 'string') {
    if (value in RTT_BUCKET_PRESETS) {
      const preset = value as RttBucketPreset;
      return { buckets: [...RTT_BUCKET_PRESETS[preset]], preset };
    }
    report(
      path,
      `metrics.rtt_histogram.buckets: "${value}" is not a preset (${Object.keys(RTT_BUCKET_PRESETS).join(', ')}) nor a list of upper bounds in seconds such as [0.0005, 0.001, 0.005]`,
    );
    return fallback;
  }
  if (value.length === 0 || value.length > MAX_BUCKETS) {
    report(path, `metrics.rtt_histogram.buckets: list 1 to ${MAX_BUCKETS} upper bounds, got ${value.length}`);
    return fallback;
  }
  let ok = true;
  value.forEach((b, i) => {
    if (!(Number.isFinite(b) && b > 0)) {
      report([...path, i], `metrics.rtt_histogram.buckets[${i}]: ${b} is not a positive number of seconds`);
      ok = false;
    } else if (i > 0 && !(b > value[i - 1]!)) {
      report(
        [...path, i],
        `metrics.rtt_histogram.buckets[${i}]: ${b} is not above the bound before it (${value[i - 1]}); list them in increasing order`,
      );
      ok = false;
    }
  });
  return ok ? { buckets: [...value] } : fallback;
}

/** The section as the YAML file would say it. */
export function metricsToYaml(m: MetricsConfig): unknown {
  return {
    rtt_histogram: {
      granularity: m.rttHistogram.granularity,
      buckets: m.rttHistogram.preset ?? m.rttHistogram.buckets,
    },
  };
}
