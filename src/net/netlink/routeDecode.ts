// One rtnetlink route message -> the few fields ipmpd reads, without building an
// object per attribute. What ipmpd never reads (other tables than main, types
// other than unicast: blackhole, local, broadcast..., routes with neither a
// gateway nor a preferred source) is dropped after the 12-byte header.

import type { Family } from '../../config/types.js';
import { RT_TABLE_MAIN } from '../../core/route.js';
import { ipToText } from './convert.js';
import { forEachAttribute } from './wire.js';

const AF_INET = 2;
const AF_INET6 = 10;
const RT_TABLE_COMPAT = 252;
const RTN_UNICAST = 1;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_MULTIPATH = 9;
const RTA_TABLE = 15;

export interface NextHop {
  gateway?: string;
  oif?: number;
}

export interface WireRoute {
  family: Family;
  dstLen: number;
  tos: number;
  protocol: number;
  dst?: string;
  /** The IPv4 destination as a number (for compact keys). */
  dst4?: number;
  priority: number;
  prefsrc?: string;
  /** One entry for a plain route, one per nexthop for a multipath (ECMP) route. */
  nexthops: NextHop[];
  multipath: boolean;
}

/** The route, or undefined if ipmpd has no use for it. Never throws on malformed input. */
export function decodeRoute(data: Buffer): WireRoute | undefined {
  if (data.length < 12) return undefined;
  const af = data[0]!;
  const family: Family | undefined = af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
  if (!family || data[7] !== RTN_UNICAST) return undefined;
  let table = data[4]!;
  if (table !== RT_TABLE_MAIN && table !== RT_TABLE_COMPAT) return undefined;
  const route: WireRoute = {
    family,
    dstLen: data[1]!,
    tos: data[3]!,
    protocol: data[5]!,
    priority: 0,
    nexthops: [],
    multipath: false,
  };
  const top: NextHop = {};
  let multipath: { start: number; end: number } | undefined;
  const addrLen = family === 4 ? 4 : 16;
  forEachAttribute(data, 12, (type, start, end) => {
    if (type === RTA_TABLE && end - start >= 4) table = data.readUInt32LE(start);
    else if (type === RTA_DST && end - start >= addrLen) {
      route.dst = ipToText(data.subarray(start, start + addrLen), family);
      if (family === 4) route.dst4 = data.readUInt32BE(start);
    } else if (type === RTA_GATEWAY && end - start >= addrLen)
      top.gateway = ipToText(data.subarray(start, start + addrLen), family);
    else if (type === RTA_OIF && end - start >= 4) top.oif = data.readUInt32LE(start);
    else if (type === RTA_PRIORITY && end - start >= 4) route.priority = data.readUInt32LE(start);
    else if (type === RTA_PREFSRC && end - start >= addrLen)
      route.prefsrc = ipToText(data.subarray(start, start + addrLen), family);
    else if (type === RTA_MULTIPATH) multipath = { start, end };
  });
  if (table !== RT_TABLE_MAIN) return undefined;
  if (multipath) {
    route.multipath = true;
    route.nexthops = nexthopsIn(data, multipath.start, multipath.end, family);
  } else {
    route.nexthops = [top];
  }
  if (!route.prefsrc && !route.nexthops.some((n) => n.gateway)) return undefined;
  return route;
}

/** struct rtnexthop { u16 len; u8 flags; u8 hops; s32 ifindex; } followed by its attributes. */
function nexthopsIn(data: Buffer, start: number, end: number, family: Family): NextHop[] {
  const hops: NextHop[] = [];
  const addrLen = family === 4 ? 4 : 16;
  let at = start;
  while (at + 8 <= end) {
    const len = data.readUInt16LE(at);
    if (len < 8 || at + len > end) break;
    const hop: NextHop = { oif: data.readInt32LE(at + 4) };
    forEachAttribute(data.subarray(0, at + len), at + 8, (type, s, e) => {
      if (type === RTA_GATEWAY && e - s >= addrLen) hop.gateway = ipToText(data.subarray(s, s + addrLen), family);
    });
    hops.push(hop);
    at += (len + 3) & ~3;
  }
  return hops;
}
