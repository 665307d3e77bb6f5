// Counters and gauges with labels that write their own exposition, in
// prom-client's format (same label order, same values): the per-group event
// families (failovers, announcements, ...) were ~1,700 lines of a 64-NIC scrape
// that prom-client rebuilt as strings from label objects every time.

import { encode, escapeLabelValue, ExpositionBuffer } from './exposition.js';

/** Something that writes one family (HELP, TYPE, samples) into a scrape. */
export interface Family {
  render(out: ExpositionBuffer): void;
}

interface Sample {
  /** `name{labels} ` */
  prefix: Buffer;
  value: number;
}

/** A counter or gauge: one value per label set, series kept in the order they were first seen. */
export class TextMetric<L extends string> implements Family {
  private readonly series = new Map<string, Sample>();
  private readonly header: Buffer;

  constructor(
    readonly name: string,
    help: string,
    readonly type: 'counter' | 'gauge',
    private readonly labelNames: readonly L[],
  ) {
    this.header = encode(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
    // as prom-client: a metric without labels has its one series from the start
    if (labelNames.length === 0) this.sample({} as Record<L, string>);
  }

  private sample(labels: Record<L, string>): Sample {
    const key =
      this.labelNames.length === 1 ? labels[this.labelNames[0]!] : this.labelNames.map((n) => labels[n]).join('\0');
    let s = this.series.get(key);
    if (!s) {
      const text = this.labelNames.map((n) => `${n}="${escapeLabelValue(labels[n])}"`).join(',');
      s = { prefix: encode(`${this.name}${text ? `{${text}}` : ''} `), value: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  /** Adds to a counter (0 declares the series). */
  inc(labels: Record<L, string>, by = 1): void {
    this.sample(labels).value += by;
  }

  set(labels: Record<L, string>, value: number): void {
    this.sample(labels).value = value;
  }

  /** Every series gone (a gauge refilled at each scrape). */
  clear(): void {
    this.series.clear();
  }

  render(out: ExpositionBuffer): void {
    out.bytes(this.header);
    for (const s of this.series.values()) {
      out.bytes(s.prefix);
      out.number(s.value);
      out.newline();
    }
  }
}

/**
 * Families in prom-client's registry layout: one blank line between families.
 * `afterOthers`: families were written before these, so the first one gets its
 * blank line too.
 */
export function renderFamilies(out: ExpositionBuffer, families: readonly Family[], afterOthers: boolean): void {
  families.forEach((f, i) => {
    if (i > 0 || afterOthers) out.newline();
    f.render(out);
  });
}

/** The families' text on their own (tests, `ipmpd` tools): what a scrape writes for them. */
export function familiesText(families: readonly Family[]): string {
  const out = new ExpositionBuffer(1 << 12);
  renderFamilies(out, families, false);
  return out.view().toString();
}
