// /api/v1/status: the engine snapshot with its timestamps in Unix time
// (seconds, as Prometheus and its APIs use) instead of the engine's monotonic
// milliseconds since boot, which mean nothing outside the process.

import type { EngineSnapshot } from '../core/snapshot.js';

export function statusJson(
  snapshot: EngineSnapshot,
  recentProbes: readonly unknown[],
  toUnixSeconds: (monotonicMs: number) => number,
): unknown {
  const unix = (ms: number) => Math.round(toUnixSeconds(ms) * 1000) / 1000;
  return {
    ...snapshot,
    at: unix(snapshot.at),
    groups: snapshot.groups.map((g) => ({
      ...g,
      interfaces: g.interfaces.map((i) => ({ ...i, lastChangeAt: unix(i.lastChangeAt) })),
    })),
    recentProbes,
  };
}
