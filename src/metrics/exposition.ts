// Prometheus text exposition (0.0.4) written into reused bytes. A 64-NIC scrape
// is ~12 000 lines: built as strings, they were the garbage whose collection made
// the scrape's tail (p99 27–36 ms over HTTP). Here the fixed parts of a line (names,
// escaped label values, `le` bounds) are encoded once and copied; integer values
// are written digit by digit; only non-integer values still become a short string.

export const escapeLabelValue = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export const valueText = (v: number): string =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);

/** UTF-8 bytes of a constant piece of text. */
export const encode = (text: string): Buffer => Buffer.from(text, 'utf8');

const NEWLINE = 0x0a;
const MINUS = 0x2d;
const ZERO = 0x30;
/** Integers below this print as plain digits (String() switches to exponent form at 1e21). */
const DIGITS_LIMIT = 2 ** 53;

/**
 * One growing byte buffer, written from the start at every scrape: once it has
 * grown to the scrape's size, a scrape allocates nothing for its text.
 */
export class ExpositionBuffer {
  private buf: Buffer;
  private at = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Start over (the previous text is no longer in use). */
  reset(): void {
    this.at = 0;
  }

  /** The text written since reset(): a view, valid until the next reset(). */
  view(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  /** Text that is not known in advance (a label value seen for the first time, a float). */
  text(s: string): void {
    this.room(s.length * 3);
    this.at += this.buf.write(s, this.at, 'utf8');
  }

  /** A sample value exactly as String(v) would print it (NaN, ±Inf as the exposition spells them). */
  number(v: number): void {
    if (Number.isInteger(v) && Math.abs(v) < DIGITS_LIMIT) this.integer(v);
    else this.text(valueText(v));
  }

  private integer(v: number): void {
    this.room(17);
    const b = this.buf;
    if (v < 0) {
      b[this.at++] = MINUS;
      v = -v;
    }
    if (v < 10) {
      b[this.at++] = ZERO + v; // also -0, which String() prints as "0"
      return;
    }
    let digits = 0;
    for (let x = v; x >= 1; x = Math.floor(x / 10)) digits++;
    let i = this.at + digits;
    this.at = i;
    for (let x = v; x >= 1; x = Math.floor(x / 10)) b[--i] = ZERO + (x % 10);
  }

  newline(): void {
    this.room(1);
    this.buf[this.at++] = NEWLINE;
  }
}

/**
 * Escaped, encoded label values, kept between scrapes: a device or target name
 * is escaped once, not at every scrape. Emptied when it gets large (names that
 * come and go, such as discovered targets, cannot make it grow without bound).
 */
export class LabelValues {
  private readonly cache = new Map<string, Buffer>();

  constructor(private readonly limit = 8192) {}

  get(value: string): Buffer {
    let b = this.cache.get(value);
    if (b === undefined) {
      if (this.cache.size >= this.limit) this.cache.clear();
      b = encode(escapeLabelValue(value));
      this.cache.set(value, b);
    }
    return b;
  }
}
