// What a reload keeps. Like keepalived, which compares the old and the new
// objects, a member whose configuration did not change goes on as it was:
// probe history, RTT estimates, targets (discovered ones too), counters,
// state. Anything that changed starts afresh, and the new engine adopts the
// host as it is, so addresses still do not move unless they must.

import type { Cidr, GroupConfig, InterfaceConfig } from '../config/types.js';
import type { DataAddress, Group, Phyint } from './model.js';
import { probeSourcesOf, sameProbeSource } from './probeSources.js';

export function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.address === b.address && a.prefixLength === b.prefixLength;
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => same(x, y)));
}

/**
 * The running member `old` can go on as `ic` of group `gc`: same group, same
 * standby flag, the same probing (test addresses, probe method), and the same
 * static targets (its target list is only right for those). A changed FDT
 * does not count: in.mpathd also keeps its members when only the FDT changes.
 */
export function canCarryInterface(old: Phyint, gc: GroupConfig, ic: InterfaceConfig): boolean {
  const oldSources = old.instances.map((i) => ({ family: i.family, method: i.method, testAddress: i.testAddress }));
  return (
    old.name === ic.name &&
    old.group.name === gc.name &&
    old.standby === ic.standby &&
    sameList(oldSources, probeSourcesOf(ic, gc), sameProbeSource) &&
    sameList(old.group.staticTargets, gc.probeTargets, (x, y) => x === y)
  );
}

/** Group-wide state the new group takes over from the running one of the same name. */
export function carryGroupState(from: Group, to: Group): void {
  if (from.configuredFdtMs === to.configuredFdtMs) {
    // a raised FDT stays raised (and lowers again on its own schedule)
    to.setEffectiveFdt(from.fdtMs);
    to.lastFdtRaiseAt = from.lastFdtRaiseAt;
  }
  to.targetsUnreachable = from.targetsUnreachable;
  for (const [name, why] of from.failbackTo) to.failbackTo.set(name, why);
}

/** Where a data address is and where it belongs, kept unless its preferred interface changed. */
export function carryAddress(from: DataAddress | undefined, to: DataAddress): void {
  if (!from) return;
  to.holder = from.holder;
  to.moveInFlight = from.moveInFlight;
  if (!to.pinned && !from.pinned) to.home = from.home; // a learnt home stays
}
