// Where each data address lives. On Linux ipmpd moves addresses itself (the
// illumos kernel does it there): an address leaves a member that stops being
// active for its home if that is active, else for the active member holding
// the fewest; it returns home when home becomes active through repair with
// FAILBACK on, or through online. With no active member it stays where it is:
// never on zero interfaces while a healthy one exists, never on two.

import type { EngineContext } from './context.js';
import type { DataAddress, Group, Phyint } from './model.js';
import type { MoveReason } from './types.js';

/**
 * Nothing to move: every address is in flight or on an active member and not due
 * home. Runs at every engine wake-up (every probe), so it allocates nothing.
 */
function settled(group: Group): boolean {
  for (const addr of group.addresses) {
    if (addr.moveInFlight) continue;
    const holder = addr.holder ? group.member(addr.holder) : undefined;
    if (!holder?.active) return false;
    const home = addr.home ? group.member(addr.home) : undefined;
    if (home && home !== holder && home.active && group.failbackTo.get(home.name)) return false;
  }
  return true;
}

export function placeAddresses(group: Group, ctx: EngineContext): void {
  if (!group.placing || settled(group)) return;
  const active = group.members.filter((m) => m.active);
  const load = new Map<string, number>(group.members.map((m) => [m.name, 0]));
  for (const a of group.addresses) if (a.holder) load.set(a.holder, (load.get(a.holder) ?? 0) + 1);

  for (const addr of group.addresses) {
    if (addr.moveInFlight) continue;
    const holder = addr.holder ? group.member(addr.holder) : undefined;
    const home = addr.home ? group.member(addr.home) : undefined;

    if (holder?.active) {
      const returnReason = home ? group.failbackTo.get(home.name) : undefined;
      if (home && home !== holder && home.active && returnReason)
        move(group, addr, holder, home, returnReason, load, ctx);
      continue;
    }
    if (active.length === 0) {
      if (!holder) {
        // nothing healthy: still put it somewhere with a link, so it is configured when the link works
        const fallback =
          (home?.present && home.linkUp ? home : undefined) ?? group.members.find((m) => m.present && m.linkUp);
        if (fallback) move(group, addr, undefined, fallback, 'placement', load, ctx);
      }
      continue;
    }
    const destination = home?.active ? home : leastLoaded(active, load);
    move(group, addr, holder, destination, holder ? reasonForLeaving(holder) : 'placement', load, ctx);
  }
  group.failbackTo.clear();
}

function reasonForLeaving(holder: Phyint): MoveReason {
  if (holder.offline) return 'admin';
  if (holder.failedFlag || !holder.present) return holder.failureCause ?? 'link';
  return 'failback'; // it went inactive: a standby handing back after a repair
}

function leastLoaded(candidates: Phyint[], load: Map<string, number>): Phyint {
  let best = candidates[0]!;
  for (const c of candidates) if ((load.get(c.name) ?? 0) < (load.get(best.name) ?? 0)) best = c;
  return best;
}

function move(
  group: Group,
  addr: DataAddress,
  from: Phyint | undefined,
  to: Phyint,
  reason: MoveReason,
  load: Map<string, number>,
  ctx: EngineContext,
): void {
  if (from === to) return;
  if (from) load.set(from.name, (load.get(from.name) ?? 1) - 1);
  load.set(to.name, (load.get(to.name) ?? 0) + 1);
  addr.holder = to.name;
  addr.moveInFlight = true;
  if (addr.home === undefined) addr.home = to.name;
  ctx.emit({
    kind: 'move_address',
    group: group.name,
    address: addr.address,
    from: from?.name,
    to: to.name,
    reason,
    decidedAt: ctx.now,
  });
}
