// Turns the kernel's view (links, addresses, routes) into the engine's inputs.

import type { DaemonConfig } from '../config/types.js';
import type { LinkReport } from '../core/types.js';
import type { KernelView } from './ports.js';

export function linkReports(view: KernelView, ifnames: readonly string[]): LinkReport[] {
  const links = view.links();
  return ifnames.map((name) => {
    const l = links.find((x) => x.name === name);
    return l
      ? { ifname: name, present: true, up: l.adminUp && l.carrier, mac: l.mac }
      : { ifname: name, present: false, up: false };
  });
}

/**
 * Where each configured data address is now (address -> devices). A member renamed
 * away (udev, an administrator) has left the group, since the configuration names
 * its members; an address still on it is reported under the member name it left,
 * so that the engine moves it to a member and deletes it from the renamed NIC
 * (found by its index) instead of leaving it on two NICs.
 */
export function addressHolders(view: KernelView, config: DaemonConfig): Map<string, string[]> {
  const leftAs = renamedMembers(view, config);
  const holders = new Map<string, string[]>();
  const onRenamed = new Map<string, string[]>();
  for (const g of config.groups) {
    for (const d of g.dataAddresses) {
      const address = d.address.address;
      for (const device of view.holdersOf(address)) {
        const member = leftAs.get(device);
        const into = member ? onRenamed : holders;
        into.set(address, [...(into.get(address) ?? []), member ?? device]);
      }
    }
  }
  // renamed NICs last: when no holder is active the engine keeps the first, and that
  // must be a NIC still in the group, not the one that left
  for (const [address, members] of onRenamed) holders.set(address, [...(holders.get(address) ?? []), ...members]);
  return holders;
}

/** Device name -> the member name it had, for NICs renamed away from a member whose name no link holds now. */
function renamedMembers(view: KernelView, config: DaemonConfig): Map<string, string> {
  const members = new Set(config.groups.flatMap((g) => g.interfaces.map((i) => i.name)));
  const links = view.links();
  const taken = new Set(links.map((l) => l.name));
  const leftAs = new Map<string, string>();
  for (const l of links) {
    if (members.has(l.name) || !l.formerNames) continue;
    const member = [...l.formerNames].reverse().find((n) => members.has(n) && !taken.has(n));
    if (member) leftAs.set(l.name, member);
  }
  return leftAs;
}

export function localAddresses(view: KernelView): string[] {
  return view.addresses().map((a) => a.cidr.address);
}
