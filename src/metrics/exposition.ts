// Prometheus text exposition (0.0.4) pieces shared by the families ipmpd renders
// itself (textHistogram.ts, stateMetrics.ts).

export const escapeLabelValue = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export const valueText = (v: number): string =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);

/**
 * Appends text to 64 KiB buffers, one Buffer at the end: a large scrape is written
 * as it is made instead of kept alive as thousands of strings until a join.
 */
export class ChunkWriter {
  private readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(1 << 16);
  private at = 0;

  write(text: string): void {
    const need = Buffer.byteLength(text);
    if (this.at + need > this.buf.length) {
      this.chunks.push(this.buf.subarray(0, this.at));
      this.buf = Buffer.allocUnsafe(Math.max(1 << 16, need));
      this.at = 0;
    }
    this.at += this.buf.write(text, this.at);
  }

  done(): Buffer {
    this.chunks.push(this.buf.subarray(0, this.at));
    return Buffer.concat(this.chunks);
  }
}
