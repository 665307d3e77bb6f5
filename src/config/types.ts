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

/**
 * How IPv4 members probe: `icmp` echo from each member's test address
 * (in.mpathd), or `arp` requests from 0.0.0.0 (RFC 5227 probes), which need no
 * test address. IPv6 members always probe with ICMPv6 from link-local addresses.
 */
export type ProbeMethod = 'icmp' | 'arp';

export interface GroupConfig {
  name: string;
  interfaces: InterfaceConfig[];
  dataAddresses: DataAddressConfig[];
  /** Static probe targets (plain addresses); empty means discover them. */
  probeTargets: string[];
  probeMethod: ProbeMethod;
}

/** Gratuitous ARP / unsolicited NA after an address move (keepalived's defaults). */
export interface AnnounceConfig {
  count: number; // packets per burst
  intervalMs: number; // spacing inside a burst
  secondBurstAfterMs: number; // 0 = no second burst
  /** Re-announce every held address this often, one packet each (keepalived's garp_master_refresh); 0 = off. */
  refreshIntervalMs: number;
  /** After a failover, re-announce with a backoff while no packet has reached the address on its new NIC, for at most this long; 0 = off. */
  untilTrafficMs: number;
}

/**
 * What to do when every member of a group loses every target at the same
 * moment (the Sun document's topology 1.1 defect):
 * - `rediscover` (default): report "targets unreachable", look for new targets
 *   by multicast, keep the group as it was;
 * - `fail_group`: in.mpathd's behaviour, every member fails.
 */
export type AllTargetsLostPolicy = 'rediscover' | 'fail_group';

/** What hooks and webhooks are told about. */
export const HOOK_EVENTS = ['address_moved', 'interface_failed', 'interface_repaired', 'group_state'] as const;
export type HookEventName = (typeof HOOK_EVENTS)[number];

/** A command run for each event: argv (no shell), the event in its environment and as JSON on stdin. */
export interface HookConfig {
  command: string[];
  events: HookEventName[];
  /** Killed (its whole process group) after this long. */
  timeoutMs: number;
}

/** A URL the event's JSON is POSTed to. */
export interface WebhookConfig {
  url: string;
  events: HookEventName[];
  /** Per attempt. */
  timeoutMs: number;
  /** Further attempts after a failed one (with a doubling pause from 1 s). */
  retries: number;
}

/** How finely the probe RTT histogram (ipmp_probe_rtt_seconds) is kept: one per target, one per interface, or none. */
export type RttHistogramGranularity = 'target' | 'interface' | 'off';

export interface MetricsConfig {
  rttHistogram: {
    granularity: RttHistogramGranularity;
    /** Upper bounds in seconds, increasing (+Inf is added). */
    buckets: number[];
    /** The preset these bounds came from, if any (printed back by name). */
    preset?: string;
  };
}

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
  hooks: HookConfig[];
  webhooks: WebhookConfig[];
  metrics: MetricsConfig;
  groups: GroupConfig[];
}
