// Which routers to probe, from a routing-table snapshot. in.mpathd takes the
// gateway of every off-link route in table order; the Sun document promises
// host routes first, then default routers, and Linux dumps the default route
// first, so ipmpd orders explicitly: host-route gateways, then other routes'
// gateways, then default gateways (the README's "How it decides").

import type { Family } from '../config/types.js';
import { inSubnet, isLinkLocalV6 } from './addressMath.js';
import type { KernelRoute } from './route.js';
import type { Candidate } from './targets.js';

/** Where an instance probes: its family, its NIC, and the IPv4 subnets it is on (a test address's, or the data addresses'). */
export interface ProbingView {
  family: Family;
  device: string;
  subnets: ReadonlyArray<{ address: string; prefixLength: number }>;
}

export function routerCandidates(
  routes: readonly KernelRoute[],
  test: ProbingView,
  ownAddresses: ReadonlySet<string>,
): Candidate[] {
  const hostLen = test.family === 4 ? 32 : 128;
  const buckets: Candidate[][] = [[], [], []];
  const seen = new Set<string>();
  for (const r of routes) {
    if (r.family !== test.family || !r.gateway) continue;
    const gw = r.gateway;
    if (seen.has(gw) || ownAddresses.has(gw)) continue;
    if (test.family === 6) {
      // in.mpathd: IPv6 router targets are link-local gateways on our link
      if (!isLinkLocalV6(gw) || (r.device !== undefined && r.device !== test.device)) continue;
    } else if (!test.subnets.some((s) => inSubnet(gw, s.address, s.prefixLength, 4))) {
      continue;
    }
    seen.add(gw);
    const isDefault = r.destination === undefined || r.prefixLength === 0;
    if (isDefault) buckets[2]!.push({ address: gw, source: 'default_router' });
    else if (r.prefixLength === hostLen) buckets[0]!.push({ address: gw, source: 'route' });
    else buckets[1]!.push({ address: gw, source: 'route' });
  }
  return buckets.flat();
}
