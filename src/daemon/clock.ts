// One monotonic clock for the engine, probe timestamps and replies.

const NS_PER_MS = 1_000_000n;

/** Milliseconds (fractional) on the monotonic clock. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function nsToMs(ns: bigint): number {
  return Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
}

/** Unix seconds for a monotonic instant (for *_timestamp_seconds metrics). */
export function monotonicToUnixSeconds(ms: number): number {
  return (Date.now() - (monotonicMs() - ms)) / 1000;
}
