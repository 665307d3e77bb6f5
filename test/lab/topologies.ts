// Lab specs for the seed setups (the Sun IPMP document's topologies, test/lab/README.md), moved into the test ranges
// (192.168.11.x -> 198.18.11.x, 172.20.20.x -> 198.18.20.x, 192.168.1.x -> 198.19.1.x; host
// parts kept). The IPMP host ('ipmp') gets its NICs but NO addresses or routes: ipmpd adds
// them. What it should add is exported as a plan next to each builder.
import type { HostSpec, LabSpec } from './spec.js';

/** What ipmpd on the 'ipmp' host is meant to configure, and what the documents expect of it. */
export interface IpmpPlan {
  /** lab host that runs ipmpd */
  host: 'ipmp';
  group: string;
  /** the group's NICs in order, each with its test address (CIDR), never moved */
  nics: Array<{ name: string; test: string; test6?: string }>;
  /** failover data addresses (CIDR); they start on nics[0] */
  data: string[];
  /** `ip route add` arguments the IPMP host needs once its addresses are up */
  routes: string[];
  /** host routes to probe targets, in table order (the Sun start script's `route add host T T`) */
  hostRoutes: string[];
  /** default router, if the topology has one (address on the probe subnet if it has one there) */
  router?: string;
  /** addresses of the target hosts t1, t2, ... in the default build */
  targets: string[];
  /** the probe targets in.mpathd would use in the default build, per the document */
  expectedProbeTargets: string[];
  /** 'client' host address; it pings the first data address */
  client: string;
  client6?: string;
}

export interface SunOptions {
  /** how many dedicated target hosts t1..tN to build (max 9, addresses .110 .. .190) */
  targets?: number;
}

const LAN = 'lan';
const TWO_NICS = ['eth0', 'eth1'];

function ipmpHost(): HostSpec {
  return { name: 'ipmp', nics: TWO_NICS.map((name) => ({ name, switch: LAN })) };
}

function host(name: string, addresses: string[], extra: Partial<HostSpec> = {}): HostSpec {
  return { name, nics: [{ name: 'eth0', switch: LAN, addresses }], ...extra };
}

/** t1 at .110, t2 at .120, ... t9 at .190 in the given /24 (first three octets). */
function targetAddresses(net: string, count: number): string[] {
  if (!Number.isInteger(count) || count < 0 || count > 9) {
    throw new Error(`topologies: targets must be an integer 0..9, got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => `${net}.${110 + 10 * i}`);
}

function targetHosts(addresses: string[], answerBroadcastPing: boolean): HostSpec[] {
  return addresses.map((a, i) => host(`t${i + 1}`, [`${a}/24`], { answerBroadcastPing }));
}

// ---------------------------------------------------------------------------------------------
// Seed A: the basic two-NIC group (unrealgrp1). Failure detection there is link loss, so the
// lab adds IPv6 too (2001:db8:11::/64) and two targets that answer multicast pings, which lets
// the same lab serve probe-based tests.

export const TWO_NIC_GROUP: IpmpPlan = {
  host: 'ipmp',
  group: 'unrealgrp1',
  nics: [
    { name: 'eth0', test: '198.18.11.6/24', test6: '2001:db8:11::6/64' },
    { name: 'eth1', test: '198.18.11.7/24', test6: '2001:db8:11::7/64' },
  ],
  data: ['198.18.11.5/24'],
  routes: ['default via 198.18.11.1'],
  hostRoutes: [],
  router: '198.18.11.1',
  targets: ['198.18.11.21', '198.18.11.22'],
  expectedProbeTargets: ['198.18.11.1'],
  client: '198.18.11.50',
  client6: '2001:db8:11::50',
};
/** IPv6 data address for v6 failover tests (not part of the seed). */
export const TWO_NIC_GROUP_DATA6 = '2001:db8:11::5/64';

export function twoNicGroup(): LabSpec {
  return {
    switches: [{ name: LAN }],
    hosts: [
      ipmpHost(),
      host('router', ['198.18.11.1/24', '2001:db8:11::1/64'], { forwarding: true, answerBroadcastPing: true }),
      host('t1', ['198.18.11.21/24', '2001:db8:11::21/64'], { answerBroadcastPing: true }),
      host('t2', ['198.18.11.22/24', '2001:db8:11::22/64'], { answerBroadcastPing: true }),
      host('client', ['198.18.11.50/24', '2001:db8:11::50/64'], {
        routes: ['default via 198.18.11.1', '2001:db8::/32 via 2001:db8:11::1'],
      }),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Sun "Summary of typical IPMP Configurations": data 198.18.20.10/24 on eth0 (qfe0), NICs
// eth0/eth1 (qfe0/qfe4). Section 1: test addresses in the data subnet; section 2: in a
// separate test subnet 198.19.1.0/24 on the same wire.

const DATA_NET = '198.18.20';
const TEST_NET_2 = '198.19.1';
const DATA = [`${DATA_NET}.10/24`];
const CLIENT = `${DATA_NET}.50`;
const SECTION1_NICS = [
  { name: 'eth0', test: `${DATA_NET}.210/24` },
  { name: 'eth1', test: `${DATA_NET}.220/24` },
];
const SECTION2_NICS = [
  { name: 'eth0', test: `${TEST_NET_2}.210/24` },
  { name: 'eth1', test: `${TEST_NET_2}.220/24` },
];
const hostRoutesTo = (targets: string[]): string[] => targets.map((t) => `${t}/32 via ${t}`);
const client = (): HostSpec => host('client', [`${CLIENT}/24`]);

/** 1.1: the default router is the only probe target (no multicast). */
export const SUN_1_1: IpmpPlan = {
  host: 'ipmp',
  group: 'ipmp0',
  nics: SECTION1_NICS,
  data: DATA,
  routes: [`default via ${DATA_NET}.1`],
  hostRoutes: [],
  router: `${DATA_NET}.1`,
  targets: [],
  expectedProbeTargets: [`${DATA_NET}.1`],
  client: CLIENT,
};

export function sun1_1(): LabSpec {
  return {
    switches: [{ name: LAN }],
    hosts: [
      ipmpHost(),
      host('router', [`${DATA_NET}.1/24`], { forwarding: true, answerBroadcastPing: true }),
      client(),
    ],
  };
}

/** 1.2: no router; probe targets are the first five hosts answering 224.0.0.1 (t1..t5). */
export const SUN_1_2: IpmpPlan = {
  host: 'ipmp',
  group: 'ipmp0',
  nics: SECTION1_NICS,
  data: DATA,
  routes: [],
  hostRoutes: [],
  targets: targetAddresses(DATA_NET, 5),
  expectedProbeTargets: targetAddresses(DATA_NET, 5),
  client: CLIENT,
};

/** opts.targets > 5 builds extra responders, to check that only five are kept. */
export function sun1_2(opts: SunOptions = {}): LabSpec {
  return {
    switches: [{ name: LAN }],
    hosts: [ipmpHost(), ...targetHosts(targetAddresses(DATA_NET, opts.targets ?? 5), true), client()],
  };
}

/**
 * 1.3: host routes to nine dedicated targets (.110 ... .190), the first five are used; with
 * fewer than five host routes, the default router is added.
 */
export const SUN_1_3: IpmpPlan = {
  host: 'ipmp',
  group: 'ipmp0',
  nics: SECTION1_NICS,
  data: DATA,
  routes: [`default via ${DATA_NET}.1`],
  hostRoutes: hostRoutesTo(targetAddresses(DATA_NET, 9)),
  router: `${DATA_NET}.1`,
  targets: targetAddresses(DATA_NET, 9),
  expectedProbeTargets: targetAddresses(DATA_NET, 5),
  client: CLIENT,
};

/** opts.targets < 5 builds fewer target hosts (the plan's hostRoutes should then be sliced too). */
export function sun1_3(opts: SunOptions = {}): LabSpec {
  return {
    switches: [{ name: LAN }],
    hosts: [
      ipmpHost(),
      host('router', [`${DATA_NET}.1/24`], { forwarding: true, answerBroadcastPing: true }),
      ...targetHosts(targetAddresses(DATA_NET, opts.targets ?? 9), false),
      client(),
    ],
  };
}

/** 2.1: router with an address in both subnets; it is the probe target on the test subnet. */
export const SUN_2_1: IpmpPlan = {
  host: 'ipmp',
  group: 'ipmp0',
  nics: SECTION2_NICS,
  data: DATA,
  routes: [`default via ${DATA_NET}.1`],
  hostRoutes: [],
  router: `${TEST_NET_2}.1`,
  targets: [],
  expectedProbeTargets: [`${TEST_NET_2}.1`],
  client: CLIENT,
};

export function sun2_1(): LabSpec {
  return {
    switches: [{ name: LAN }],
    hosts: [
      ipmpHost(),
      host('router', [`${DATA_NET}.1/24`, `${TEST_NET_2}.1/24`], { forwarding: true, answerBroadcastPing: true }),
      client(),
    ],
  };
}

/**
 * 2.2: router only in the data subnet; on the test subnet, multicast discovery finds t1..t5
 * (198.19.1.110 ... .150).
 */
export const SUN_2_2: IpmpPlan = {
  host: 'ipmp',
  group: 'ipmp0',
  nics: SECTION2_NICS,
  data: DATA,
  routes: [`default via ${DATA_NET}.1`],
  hostRoutes: [],
  targets: targetAddresses(TEST_NET_2, 5),
  expectedProbeTargets: targetAddresses(TEST_NET_2, 5),
  client: CLIENT,
};

export function sun2_2(opts: SunOptions = {}): LabSpec {
  return {
    switches: [{ name: LAN }],
    hosts: [
      ipmpHost(),
      host('router', [`${DATA_NET}.1/24`], { forwarding: true, answerBroadcastPing: true }),
      ...targetHosts(targetAddresses(TEST_NET_2, opts.targets ?? 5), true),
      client(),
    ],
  };
}

/**
 * 2.3: host routes to nine targets in the test subnet, first five used. The document does not
 * place the router; here it has an address in both subnets (as in 2.1) so that the "fewer than
 * five host routes, add the default router" case has a reachable router.
 */
export const SUN_2_3: IpmpPlan = {
  host: 'ipmp',
  group: 'ipmp0',
  nics: SECTION2_NICS,
  data: DATA,
  routes: [`default via ${DATA_NET}.1`],
  hostRoutes: hostRoutesTo(targetAddresses(TEST_NET_2, 9)),
  router: `${TEST_NET_2}.1`,
  targets: targetAddresses(TEST_NET_2, 9),
  expectedProbeTargets: targetAddresses(TEST_NET_2, 5),
  client: CLIENT,
};

export function sun2_3(opts: SunOptions = {}): LabSpec {
  return {
    switches: [{ name: LAN }],
    hosts: [
      ipmpHost(),
      host('router', [`${DATA_NET}.1/24`, `${TEST_NET_2}.1/24`], { forwarding: true, answerBroadcastPing: true }),
      ...targetHosts(targetAddresses(TEST_NET_2, opts.targets ?? 9), false),
      client(),
    ],
  };
}

/** Builder and plan by section name, for table-driven tests. */
export const SUN_TOPOLOGIES = {
  '1.1': { build: sun1_1, plan: SUN_1_1 },
  '1.2': { build: sun1_2, plan: SUN_1_2 },
  '1.3': { build: sun1_3, plan: SUN_1_3 },
  '2.1': { build: sun2_1, plan: SUN_2_1 },
  '2.2': { build: sun2_2, plan: SUN_2_2 },
  '2.3': { build: sun2_3, plan: SUN_2_3 },
} as const;
