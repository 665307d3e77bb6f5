// Which NICs form in.mpathd's anonymous group (track_interfaces_only_with_groups:
// false): every NIC that is up, in no group, with an address to probe from.
// Only addresses it already has are used; ipmpd adds none.

import { isLinkLocalV6 } from '../config/address.js';
import type { DaemonConfig, Family } from '../config/types.js';
import type { AnonymousMember } from '../core/anonymous.js';
import type { KernelAddress, KernelView } from './ports.js';

const isLoopback = (a: KernelAddress) => a.cidr.address === '::1' || a.cidr.address.startsWith('127.');

export function anonymousMembers(view: KernelView, config: DaemonConfig): AnonymousMember[] {
  if (config.trackInterfacesOnlyWithGroups) return [];
  const grouped = new Set(config.groups.flatMap((g) => g.interfaces.map((i) => i.name)));
  // a data or test address of a group is not this NIC's own (it may move here, or be going)
  const managed = new Set(
    config.groups.flatMap((g) => [
      ...g.dataAddresses.map((d) => d.address.address),
      ...g.interfaces.flatMap((i) => i.testAddresses.map((t) => t.address)),
    ]),
  );
  const addresses = view.addresses().filter((a) => !isLoopback(a) && !managed.has(a.cidr.address));
  const members: AnonymousMember[] = [];
  for (const link of view.links()) {
    if (!link.adminUp || link.name === 'lo' || grouped.has(link.name)) continue;
    const own = addresses.filter((a) => a.device === link.name);
    const v4 = own.find((a) => a.cidr.family === 4 && !a.secondary) ?? own.find((a) => a.cidr.family === 4);
    // IPv6 counts when configured (a global address): every up NIC has a link-local one.
    // Probes go from the link-local address, as in.mpathd's IPv6 test addresses do.
    const v6Configured = own.some((a) => a.cidr.family === 6 && !isLinkLocalV6(a.cidr.address));
    const v6 = v6Configured ? own.find((a) => a.cidr.family === 6 && isLinkLocalV6(a.cidr.address)) : undefined;
    const sources = [v4, v6].flatMap((a) => (a ? [a.cidr] : []));
    if (sources.length > 0) members.push({ name: link.name, sources });
  }
  return members;
}

/** Probe sockets the anonymous members need, per NIC. */
export function socketsFor(members: readonly AnonymousMember[]): Array<{ name: string; families: Family[] }> {
  return members.map((m) => ({ name: m.name, families: m.sources.map((s) => s.family) }));
}
