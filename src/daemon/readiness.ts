// /-/ready: every group has a first verdict. A member has one when its link is
// down (failed), it is offline, it probes nothing (link-only: its link state is
// the verdict), or its probes have been answered or have failed it.

import type { EngineSnapshot } from '../core/snapshot.js';

export function everyGroupHasVerdict(s: EngineSnapshot, answered: ReadonlySet<string>): boolean {
  // the anonymous group only watches: its NICs never hold back readiness
  return s.groups.every(
    (g) =>
      g.anonymous ||
      g.interfaces.every(
        (i) =>
          i.link === 'down' ||
          i.state === 'offline' ||
          i.state === 'failed' ||
          i.probeState === 'disabled' ||
          answered.has(i.name) ||
          g.targetsUnreachable,
      ),
  );
}
