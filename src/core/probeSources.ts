// Which probing instances a member gets, and how each one probes. A test
// address gives an ICMP instance of its family (in.mpathd). A group with
// probe_method: arp gives each member an IPv4 instance without a test address
// that probes with ARP requests from 0.0.0.0 (RFC 5227 probes) - when the
// group has an IPv4 subnet to probe on (a data address) or IPv4 targets.
// IPv6 always probes with ICMPv6 from the link-local test address.

import type { Cidr, Family, GroupConfig, InterfaceConfig, ProbeMethod } from '../config/types.js';

export interface ProbeSource {
  family: Family;
  method: ProbeMethod;
  /** The ICMP source; undefined for ARP, whose probes carry sender address 0.0.0.0. */
  testAddress: Cidr | undefined;
}

/** The sender protocol address of an ARP probe (RFC 5227). */
export const ARP_PROBE_SOURCE = '0.0.0.0';
/** The target of an ARP discovery request: any host in the neighbour table. */
export const ARP_ANY_NEIGHBOUR = '0.0.0.0';

export function probeSourcesOf(
  ic: InterfaceConfig,
  gc: Pick<GroupConfig, 'probeMethod' | 'dataAddresses' | 'probeTargets'>,
): ProbeSource[] {
  const sources: ProbeSource[] = [];
  const arp =
    gc.probeMethod === 'arp' &&
    (gc.dataAddresses.some((d) => d.address.family === 4) || gc.probeTargets.some((t) => !t.includes(':')));
  for (const family of [4, 6] as Family[]) {
    if (family === 4 && arp) {
      sources.push({ family, method: 'arp', testAddress: undefined });
      continue;
    }
    const test = ic.testAddresses.find((t) => t.family === family);
    if (test) sources.push({ family, method: 'icmp', testAddress: test });
  }
  return sources;
}

export function sameProbeSource(a: ProbeSource, b: ProbeSource): boolean {
  const sameTest =
    a.testAddress === undefined || b.testAddress === undefined
      ? a.testAddress === b.testAddress
      : a.testAddress.address === b.testAddress.address && a.testAddress.prefixLength === b.testAddress.prefixLength;
  return a.family === b.family && a.method === b.method && sameTest;
}
