// The main routing table as ipmpd needs it, kept from RTM_NEWROUTE/RTM_DELROUTE
// in place (no dump per change). Two kinds of entry:
//  - routes that follow a data address (origin in follow_route_protocols): kept
//    whole, with what a move must write back;
//  - every other gateway route (a BGP table, say): only counted per gateway, for
//    probe-target selection, so memory follows the gateways, not the table.
// The kernel flushes some IPv4 routes without a notification; the rules it
// applies are applied here too (linkGone, linkAdminDown, ipv4AddressGone).

import type { Family } from '../../config/types.js';
import type { RouteInfo } from '../../core/routeTargets.js';
import type { KernelRoute } from '../../daemon/ports.js';
import { decodeRoute, type NextHop, type WireRoute } from './routeDecode.js';
import { NLM_F_REPLACE, RTM_DELROUTE, RTM_NEWROUTE } from './wire.js';

/** 0: host route, 1: other prefix, 2: default (routerCandidates' order). */
type RouteClass = 0 | 1 | 2;

interface Entry {
  family: Family;
  nexthops: NextHop[];
  prefsrc: string | undefined;
  cls: RouteClass;
  dst: string | undefined;
  dstLen: number;
  /** Set for routes that follow an address. */
  whole: KernelRoute | undefined;
}

interface GatewayCount {
  family: Family;
  gateway: string;
  oif: number | undefined;
  cls: RouteClass;
  /** A destination of one of the routes counted, for the RouteInfo it stands for. */
  dst: string | undefined;
  dstLen: number;
  count: number;
}

export interface RouteTableOptions {
  /** Is a route of this origin (rtm_protocol) kept whole? */
  keepWhole(protocol: number): boolean;
  /** The whole route, parsed with everything a move must keep. */
  parseWhole(data: Buffer): KernelRoute | undefined;
}

export class RouteTable {
  /** (family, destination, ToS, metric) -> the route(s) in that slot. */
  private readonly slots = new Map<string, Entry | Entry[]>();
  private readonly gateways = new Map<string, GatewayCount>();
  private wholeCount = 0;
  private summary: RouteInfo[] | undefined;
  private summaryNames: ((index: number) => string | undefined) | undefined;

  constructor(private readonly options: RouteTableOptions) {}

  /** Routes ipmpd keeps (whole or counted). */
  get size(): number {
    let n = 0;
    for (const v of this.slots.values()) n += Array.isArray(v) ? v.length : 1;
    return n;
  }
  get wholeSize(): number {
    return this.wholeCount;
  }

  /**
   * Applies one route message (a notification or a dump part).
   * @returns true if what ipmpd reads changed (a gateway appeared or went, a whole route changed).
   */
  apply(type: number, flags: number, data: Buffer): boolean {
    if (type !== RTM_NEWROUTE && type !== RTM_DELROUTE) return false;
    const route = decodeRoute(data);
    if (!route) return false;
    const slot = slotKey(route);
    const entry = this.entryOf(route, data);
    if (type === RTM_DELROUTE) return this.remove(slot, entry);
    const existing = this.slots.get(slot);
    if (existing === undefined) {
      this.slots.set(slot, entry);
      return this.counted(entry, +1);
    }
    const list = Array.isArray(existing) ? existing : [existing];
    const same = list.findIndex((e) => sameRoute(e, entry));
    // NLM_F_REPLACE: the kernel replaced the first route of the slot
    const at = same >= 0 ? same : flags & NLM_F_REPLACE ? 0 : -1;
    let changed = false;
    if (at >= 0) {
      changed = this.counted(list[at]!, -1);
      list[at] = entry;
    } else {
      list.push(entry);
    }
    this.slots.set(slot, list.length === 1 ? list[0]! : list);
    return this.counted(entry, +1) || changed;
  }

  /** The link is gone: the kernel removed its routes (IPv4 without telling). */
  linkGone(index: number): boolean {
    return this.removeWhere((e) => e.nexthops.some((h) => h.oif === index));
  }

  /** Set administratively down: the kernel flushed its IPv4 routes without telling. */
  linkAdminDown(index: number): boolean {
    return this.removeWhere((e) => e.family === 4 && e.nexthops.some((h) => h.oif === index));
  }

  /**
   * An IPv4 address was deleted: the kernel flushed, without telling, the routes
   * with it as preferred source, and every IPv4 route of the link if it was the last.
   */
  ipv4AddressGone(address: string, index: number, lastOnLink: boolean): boolean {
    return this.removeWhere((e) => e.family === 4 && (e.prefsrc === address || (lastOnLink && e.nexthops.some((h) => h.oif === index))));
  }

  /** One RouteInfo per (gateway, interface, kind of route), for probe-target selection; cached. */
  gatewayRoutes(nameOf: (index: number) => string | undefined): RouteInfo[] {
    if (this.summary && this.summaryNames === nameOf) return this.summary;
    this.summaryNames = nameOf;
    this.summary = [...this.gateways.values()].map((g) => ({
      family: g.family,
      ...(g.cls === 2 ? {} : { destination: g.dst }),
      prefixLength: g.dstLen,
      gateway: g.gateway,
      ...(g.oif !== undefined && nameOf(g.oif) !== undefined ? { device: nameOf(g.oif) } : {}),
    }));
    return this.summary;
  }

  /** Drops the cached summary (a link was renamed: device names changed). */
  namesChanged(): void {
    this.summary = undefined;
  }

  /** The routes that follow an address, with today's interface names. */
  wholeRoutes(nameOf: (index: number) => string | undefined): KernelRoute[] {
    const out: KernelRoute[] = [];
    for (const v of this.slots.values()) {
      for (const e of Array.isArray(v) ? v : [v]) {
        if (!e.whole) continue;
        const oif = e.nexthops[0]?.oif;
        const device = oif !== undefined ? nameOf(oif) : undefined;
        out.push({ ...e.whole, ...(device !== undefined ? { device } : {}) });
      }
    }
    return out;
  }

  private entryOf(route: WireRoute, data: Buffer): Entry {
    const hostLen = route.family === 4 ? 32 : 128;
    const cls: RouteClass = route.dstLen === 0 ? 2 : route.dstLen === hostLen ? 0 : 1;
    const whole = !route.multipath && this.options.keepWhole(route.protocol) ? this.options.parseWhole(data) : undefined;
    return { family: route.family, nexthops: route.nexthops, prefsrc: route.prefsrc, cls, dst: route.dst, dstLen: route.dstLen, whole };
  }

  private remove(slot: string, entry: Entry): boolean {
    const existing = this.slots.get(slot);
    if (existing === undefined) return false;
    const list = Array.isArray(existing) ? existing : [existing];
    const at = list.findIndex((e) => sameRoute(e, entry));
    if (at < 0) return false;
    const [gone] = list.splice(at, 1);
    if (list.length === 0) this.slots.delete(slot);
    else this.slots.set(slot, list.length === 1 ? list[0]! : list);
    return this.counted(gone!, -1);
  }

  private removeWhere(pred: (e: Entry) => boolean): boolean {
    let changed = false;
    for (const [slot, v] of this.slots) {
      const list = Array.isArray(v) ? v : [v];
      const kept = list.filter((e) => {
        if (!pred(e)) return true;
        changed = this.counted(e, -1) || changed;
        return false;
      });
      if (kept.length === list.length) continue;
      if (kept.length === 0) this.slots.delete(slot);
      else this.slots.set(slot, kept.length === 1 ? kept[0]! : kept);
    }
    return changed;
  }

  /** Adds (+1) or removes (-1) an entry's weight; true if the summary or the whole routes changed. */
  private counted(e: Entry, delta: 1 | -1): boolean {
    let changed = false;
    if (e.whole) {
      this.wholeCount += delta;
      changed = true;
    }
    for (const h of e.nexthops) {
      if (!h.gateway) continue;
      const key = `${e.family} ${h.gateway} ${h.oif ?? ''} ${e.cls}`;
      const g = this.gateways.get(key);
      if (delta > 0) {
        if (g) g.count++;
        else {
          this.gateways.set(key, { family: e.family, gateway: h.gateway, oif: h.oif, cls: e.cls, dst: e.dst, dstLen: e.dstLen, count: 1 });
          changed = true;
        }
      } else if (g && --g.count === 0) {
        this.gateways.delete(key);
        changed = true;
      }
    }
    if (changed) this.summary = undefined;
    return changed;
  }
}

function slotKey(r: WireRoute): string {
  return `${r.family} ${r.dst ?? ''}/${r.dstLen} ${r.tos} ${r.priority}`;
}

function sameRoute(a: Entry, b: Entry): boolean {
  if (a.nexthops.length !== b.nexthops.length) return false;
  return a.nexthops.every((h, i) => h.gateway === b.nexthops[i]!.gateway && h.oif === b.nexthops[i]!.oif);
}
