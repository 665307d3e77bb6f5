// The validated, normalised configuration: what the YAML file means once
// defaults are filled in. Everything downstream (engine, daemon, CLI) reads
// only this shape, never the raw YAML.

export type Family = 4 | 6;

/** An address with its prefix length, e.g. 198.18.11.5/24. */
export interface Cidr {
  address: string; // canonical text form (IPv6 compressed, lower case)
  prefixLength: number;
  family: Family;
}

export interface InterfaceConfig {
  name: string;
  /** At most one per address family. Empty: link-based detection only. */
  testAddresses: Cidr[];
  standby: boolean;
}

export interface DataAddressConfig {
  address: Cidr;
  /** Pinned: the address lives here whenever this interface is usable. */
  preferredInterface?: string;
}

export interface GroupConfig {
  name: string;
  interfaces: InterfaceConfig[];
  dataAddresses: DataAddressConfig[];
  /** Static probe targets (plain addresses); empty means discover them. */
  probeTargets: string[];
}

/** Gratuitous ARP / unsolicited NA after an address move (keepalived's defaults). */
export interface AnnounceConfig {
  count: number; // packets per burst
  intervalMs: number; // spacing inside a burst
  secondBurstAfterMs: number; // 0 = no second burst
}

/**
 * What to do when every member of a group loses every target at the same
 * moment (the Sun document's topology 1.1 defect):
 * - `rediscover` (default): report "targets unreachable", look for new targets
 *   by multicast, keep the group as it was;
 * - `fail_group`: in.mpathd's behaviour, every member fails.
 */
export type AllTargetsLostPolicy = 'rediscover' | 'fail_group';

export interface DaemonConfig {
  failureDetectionTimeMs: number;
  failback: boolean;
  trackInterfacesOnlyWithGroups: boolean;
  onAllTargetsLost: AllTargetsLostPolicy;
  announce: AnnounceConfig;
  /** Rewrite the sysctls that break multi-NIC hosts (otherwise only warn). */
  fixSysctls: boolean;
  /**
   * Origins (rtm_protocol names, canonical: see routeProtocols.ts) of the routes
   * that follow a data address to its new interface. Routes of other origins
   * (bgp, ospf, bird, zebra, ...) belong to a routing daemon and are left alone.
   */
  followRouteProtocols: string[];
  adminSocket: string;
  groups: GroupConfig[];
}
