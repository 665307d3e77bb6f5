// A route of the kernel's table, as ipmpd reads it: the engine picks probe
// targets from the gateways (routeTargets.ts), the daemon rewrites the routes
// that carry a data address onto its new holder (daemon/routesToFollow.ts).

import type { Family } from '../config/types.js';

export interface KernelRoute {
  family: Family;
  /** Undefined for the default route. */
  destination?: string;
  prefixLength: number;
  gateway?: string;
  /** Outgoing interface name. */
  device?: string;
  prefsrc?: string;
  metric?: number;
  /** Undefined: the main table. */
  table?: number;
  protocol?: string;
  scope?: string;
  type?: string;
  /**
   * What the adapter read besides the fields above and must write back when the
   * route moves (MTU and other RTA_METRICS, IPv6 preference, realm, ToS):
   * opaque here, present only when the route has any.
   */
  extras?: unknown;
}

/** The kernel's main routing table (RT_TABLE_MAIN), the one ipmpd reads and writes. */
export const RT_TABLE_MAIN = 254;
