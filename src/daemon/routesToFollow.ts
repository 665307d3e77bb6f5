// Which routes must follow a data address to its new interface. Linux picks
// the outgoing NIC by destination, not by which NIC holds the source address,
// and keeps using routes through a NIC that lost carrier; so the routes that
// carried the address's traffic are rewritten onto the new holder: the data
// subnet, routes whose preferred source is the address, and routes whose
// gateway lives in the data subnet (the default route among them). Only routes
// whose origin (rtm_protocol) is in `follow_route_protocols` move: a routing
// daemon's routes (bgp, ospf, bird, ...) are its own, it reacts to the link.

import type { Cidr } from '../config/types.js';
import { inSubnet, isLinkLocalV6, networkOf } from '../core/addressMath.js';
import { RT_TABLE_MAIN, type KernelRoute } from '../core/route.js';

export function routesToMove(
  routes: readonly KernelRoute[],
  data: Cidr,
  from: string | undefined,
  followProtocols: readonly string[],
): KernelRoute[] {
  return routes.filter((r) => {
    if (r.family !== data.family || (r.table !== undefined && r.table !== RT_TABLE_MAIN)) return false;
    if (r.type !== undefined && r.type !== 'unicast') return false;
    if (from !== undefined && r.device !== from) return false;
    if (r.protocol === 'kernel' && r.gateway === undefined) return false; // the kernel's own prefix routes follow their addresses
    if (!followProtocols.includes(r.protocol ?? 'unspec')) return false;
    if (r.prefsrc === data.address) return true;
    if (r.gateway === undefined) return false;
    if (data.family === 6) return isLinkLocalV6(r.gateway);
    return inSubnet(r.gateway, data.address, data.prefixLength, 4);
  });
}

/** The IPv4 data subnet route ipmpd keeps on the holder (test addresses carry no prefix route). */
export function subnetRoute(data: Cidr, device: string): KernelRoute | undefined {
  if (data.family !== 4 || data.prefixLength >= 32) return undefined;
  return {
    family: 4,
    destination: networkOf(data.address, data.prefixLength),
    prefixLength: data.prefixLength,
    device,
    prefsrc: data.address,
    scope: 'link',
    protocol: 'static',
    table: RT_TABLE_MAIN,
  };
}
