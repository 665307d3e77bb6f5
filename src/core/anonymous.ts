// in.mpathd's anonymous group (TRACK_INTERFACES_ONLY_WITH_GROUPS=no): NICs in
// no group are watched, not managed. Each member probes from an address it
// already has; it fails and repairs like any member, but it has no data
// addresses, its failure is never a group failure, and the group is always ok.

import type { Cidr } from '../config/types.js';
import { sameCidr } from './carryOver.js';

/** Its name in logs, metrics and `ipmpd stat`; the configuration reserves it. */
export const ANONYMOUS_GROUP = 'anonymous';

/** A NIC outside every group, as the shell found it: up, with an address to probe from. */
export interface AnonymousMember {
  name: string;
  /** Probe sources, at most one per family: addresses the NIC already has (never added by ipmpd). */
  sources: Cidr[];
}

/** The same member, probing from the same addresses: its state goes on. */
export function sameAnonymousMember(a: AnonymousMember, b: AnonymousMember): boolean {
  return (
    a.name === b.name &&
    a.sources.length === b.sources.length &&
    a.sources.every((s) => b.sources.some((t) => sameCidr(s, t)))
  );
}
