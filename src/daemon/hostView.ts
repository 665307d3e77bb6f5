// Turns the kernel's view (links, addresses, routes) into the engine's inputs.

import type { DaemonConfig } from '../config/types.js';
import type { RouteInfo } from '../core/routeTargets.js';
import type { LinkReport } from '../core/types.js';
import type { KernelView } from './ports.js';

export function linkReports(view: KernelView, ifnames: readonly string[]): LinkReport[] {
  const links = view.links();
  return ifnames.map((name) => {
    const l = links.find((x) => x.name === name);
    return l ? { ifname: name, present: true, up: l.adminUp && l.carrier, mac: l.mac } : { ifname: name, present: false, up: false };
  });
}

export function routeInfos(view: KernelView): RouteInfo[] {
  return view.gatewayRoutes();
}

/** Where each configured data address is now (address -> devices). */
export function addressHolders(view: KernelView, config: DaemonConfig): Map<string, string[]> {
  const wanted = new Set(config.groups.flatMap((g) => g.dataAddresses.map((d) => d.address.address)));
  const holders = new Map<string, string[]>();
  for (const a of view.addresses()) {
    if (!wanted.has(a.cidr.address)) continue;
    holders.set(a.cidr.address, [...(holders.get(a.cidr.address) ?? []), a.device]);
  }
  return holders;
}

export function localAddresses(view: KernelView): string[] {
  return view.addresses().map((a) => a.cidr.address);
}
