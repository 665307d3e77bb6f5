// A histogram with labels that renders its own text exposition. The per-target
// RTT histogram is most of ipmpd's series (64 NICs x 5 targets x 23 lines):
// prom-client hashes the labels on every observe and rebuilds every label set
// on every scrape, which made a 64-NIC scrape take 50 ms. Here a series keeps
// its label text ready and an observe is an array increment. Same output as
// prom-client's Histogram (asserted in test/unit/metrics/textHistogram.test.ts).

interface Series {
  labelText: string;
  counts: Float64Array; // per bucket, not cumulative; the last slot is +Inf
  sum: number;
  count: number;
}

const escapeLabelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export class TextHistogram<L extends string> {
  private readonly series = new Map<string, Series>();
  private readonly leText: string[];

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly buckets: readonly number[],
  ) {
    this.leText = [...buckets.map(String), '+Inf'];
  }

  /** The series for these labels, created at zero if new. */
  zero(labels: Record<L, string>): Series {
    const key = this.labelNames.map((n) => labels[n]).join('\0');
    let s = this.series.get(key);
    if (!s) {
      s = { labelText: this.labelNames.map((n) => `${n}="${escapeLabelValue(labels[n])}"`).join(','), counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
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
    this.series.delete(this.labelNames.map((n) => labels[n]).join('\0'));
  }

  /** The text exposition (Prometheus 0.0.4), HELP and TYPE included. */
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      let cumulative = 0;
      const sep = s.labelText ? ',' : '';
      const braces = s.labelText ? `{${s.labelText}}` : '';
      for (let i = 0; i < this.leText.length; i++) {
        cumulative += s.counts[i]!;
        lines.push(`${this.name}_bucket{${s.labelText}${sep}le="${this.leText[i]}"} ${cumulative}`);
      }
      lines.push(`${this.name}_sum${braces} ${s.sum}`, `${this.name}_count${braces} ${s.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
