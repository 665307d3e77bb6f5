// A histogram with labels that renders its own text exposition. The per-target
// RTT histogram is most of ipmpd's series (64 NICs x 5 targets x 23 lines):
// prom-client hashes the labels on every observe and rebuilds every label set
// on every scrape, which made a 64-NIC scrape take 50 ms. Here a series keeps
// the bytes of its lines' fixed parts, and an observe is an array increment.
// Same output as prom-client's Histogram (asserted in
// test/unit/metrics/textHistogram.test.ts).

import { encode, escapeLabelValue, type ExpositionBuffer } from './exposition.js';
import type { Family } from './textFamilies.js';

interface Series {
  /** `name_bucket{labels,le="`: a bucket line is this, the bound (`0.001"} `), the count */
  bucketPrefix: Buffer;
  /** with `le` first (prom-client's order): `",labels} ` after the bound */
  bucketSuffix?: Buffer;
  /** `name_sum{labels} ` and `name_count{labels} ` */
  sumPrefix: Buffer;
  countPrefix: Buffer;
  counts: Float64Array; // per bucket, not cumulative; the last slot is +Inf
  sum: number;
  count: number;
}

export class TextHistogram<L extends string> implements Family {
  private readonly series = new Map<string, Series>();
  /** `0.001"} `, one per bucket and +Inf */
  private readonly leBytes: Buffer[];
  private readonly header: Buffer;

  constructor(
    readonly name: string,
    help: string,
    readonly labelNames: readonly L[],
    readonly buckets: readonly number[],
    /** `le` before the other labels, as prom-client's own histograms write it */
    private readonly leFirst = false,
  ) {
    this.leBytes = [...buckets.map(String), '+Inf'].map((le) =>
      encode(leFirst && labelNames.length ? `${le}"` : `${le}"} `),
    );
    this.header = encode(`# HELP ${name} ${help}\n# TYPE ${name} histogram\n`);
  }

  private key(labels: Record<L, string>): string {
    return this.labelNames.length === 1
      ? labels[this.labelNames[0]!]
      : this.labelNames.map((n) => labels[n]).join('\0');
  }

  /** The series for these labels, created at zero if new. */
  zero(labels: Record<L, string>): Series {
    const key = this.key(labels);
    let s = this.series.get(key);
    if (!s) {
      const labelText = this.labelNames.map((n) => `${n}="${escapeLabelValue(labels[n])}"`).join(',');
      const braces = labelText ? `{${labelText}}` : '';
      const leFirst = this.leFirst && labelText !== '';
      s = {
        bucketPrefix: encode(
          leFirst ? `${this.name}_bucket{le="` : `${this.name}_bucket{${labelText}${labelText ? ',' : ''}le="`,
        ),
        ...(leFirst ? { bucketSuffix: encode(`,${labelText}} `) } : {}),
        sumPrefix: encode(`${this.name}_sum${braces} `),
        countPrefix: encode(`${this.name}_count${braces} `),
        counts: new Float64Array(this.buckets.length + 1),
        sum: 0,
        count: 0,
      };
      this.series.set(key, s);
    }
    return s;
  }

  observe(labels: Record<L, string>, value: number): void {
    if (!Number.isFinite(value)) return;
    const s = this.zero(labels);
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  remove(labels: Record<L, string>): void {
    this.series.delete(this.key(labels));
  }

  /** Label sets (in labelNames order) of the series there are. */
  *labelSets(): IterableIterator<string[]> {
    for (const key of this.series.keys())
      yield this.labelNames.length === 0 ? [] : this.labelNames.length === 1 ? [key] : key.split('\0');
  }

  /** The text exposition (Prometheus 0.0.4), HELP and TYPE included. */
  render(out: ExpositionBuffer): void {
    out.bytes(this.header);
    const le = this.leBytes;
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < le.length; i++) {
        cumulative += s.counts[i]!;
        out.bytes(s.bucketPrefix);
        out.bytes(le[i]!);
        if (s.bucketSuffix) out.bytes(s.bucketSuffix);
        out.number(cumulative);
        out.newline();
      }
      out.bytes(s.sumPrefix);
      out.number(s.sum);
      out.newline();
      out.bytes(s.countPrefix);
      out.number(s.count);
      out.newline();
    }
  }
}
