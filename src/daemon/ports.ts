// What the daemon needs from the kernel, as narrow interfaces. The adapters in
// src/net implement them; tests of the daemon logic can too.

import type { Cidr } from '../config/types.js';
import type { KernelRoute } from '../core/route.js';

export interface KernelAddress {
  device: string;
  cidr: Cidr;
  secondary: boolean;
  noprefixroute: boolean;
}

export interface KernelLink {
  name: string;
  index: number;
  mac?: string;
  adminUp: boolean;
  carrier: boolean;
  /** Names this link had before it was renamed, oldest first (while ipmpd has been watching). */
  formerNames?: string[];
}

export interface KernelView {
  links(): KernelLink[];
  addresses(): KernelAddress[];
  /** The devices that hold an address now (any prefix length). */
  holdersOf(address: string): string[];
  /** The routes that may follow a data address (main table, origin in follow_route_protocols), whole. */
  routes(): KernelRoute[];
  /** Gateway routes of the main table, one per gateway, interface and kind (host, other, default): for probe targets. */
  gatewayRoutes(): KernelRoute[];
}

export interface KernelOps {
  addAddress(
    device: string,
    cidr: Cidr,
    opts: { nodad?: boolean; noprefixroute?: boolean; label?: string },
  ): Promise<void>;
  deleteAddress(device: string, cidr: Cidr): Promise<void>;
  replaceRoute(route: KernelRoute): Promise<void>;
}

export interface Announcer {
  /** Tell neighbours that `cidr` now lives behind `device`; resolves with the packets actually sent. */
  announce(device: string, cidr: Cidr, count: number, intervalMs: number): Promise<{ sent: number }>;
}

export interface ArrivalWatcher {
  /**
   * Calls onArrival (monotonic ms) for each inbound packet addressed to `address`
   * that `device` received for itself, until closed. Throws when it cannot watch.
   */
  watch(
    device: string,
    address: string,
    onArrival: (monotonicMs: number) => void,
    onError: (err: string) => void,
  ): { close(): void };
}
