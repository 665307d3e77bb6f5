// The main routing table as ipmpd needs it, kept from RTM_NEWROUTE/RTM_DELROUTE
// in place (no dump per change). Two kinds of entry:
//  - routes that follow a data address (origin in follow_route_protocols): kept
//    whole, with what a move must write back;
//  - every other gateway route (a BGP table, say): one small number per route, the
//    id of its (gateway, interface, kind, source) summary, counted for probe-target
//    selection. Memory follows the routes' count at ~100 bytes each, not their size.
// The kernel flushes some IPv4 routes without a notification; the rules it
// applies are applied here too (linkGone, linkAdminDown, ipv4AddressGone).

import type { Family } from '../../config/types.js';
import { decodeRoute, type NextHop, type WireRoute } from './routeDecode.js';
import { NLM_F_REPLACE, RTM_DELROUTE, RTM_NEWROUTE } from './wire.js';
import type { KernelRoute } from '../../core/route.js';

/** 0: host route, 1: other prefix, 2: default (routerCandidates' order). */
type RouteClass = 0 | 1 | 2;

/** A route kept whole, or one with several nexthops (ECMP). */
interface Entry {
  family: Family;
  nexthops: NextHop[];
  prefsrc: string | undefined;
  /** Summary ids of its gateway nexthops. */
  summaries: number[];
  whole: KernelRoute | undefined;
}

/** A counted route is just its summary's id; the rest are entries. */
type Stored = number | Entry;

interface Summary {
  family: Family;
  gateway: string;
  oif: number | undefined;
  prefsrc: string | undefined;
  cls: RouteClass;
  /** One of the routes counted, for the KernelRoute this stands for. */
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
  private readonly slots = new Map<string | number, Stored | Stored[]>();
  private readonly summaries: Array<Summary | undefined> = [];
  private readonly summaryIds = new Map<string, number>();
  private readonly freeIds: number[] = [];
  private kept = 0;
  /** The whole routes again, by identity: a failover reads them, never the whole table. */
  private readonly wholeEntries = new Set<Entry>();
  private cached: KernelRoute[] | undefined;
  private cachedNames: ((index: number) => string | undefined) | undefined;

  constructor(private readonly options: RouteTableOptions) {}

  /** Routes ipmpd keeps (whole or counted). */
  get size(): number {
    return this.kept;
  }
  get wholeSize(): number {
    return this.wholeEntries.size;
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
    const existing = this.slots.get(slot);
    const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
    const same = list.findIndex((s) => this.matches(s, route));
    if (type === RTM_DELROUTE) {
      if (same < 0) return false;
      const [gone] = list.splice(same, 1);
      this.store(slot, list);
      return this.release(gone!);
    }
    // NLM_F_REPLACE: the kernel replaced the first route of the slot
    const at = same >= 0 ? same : flags & NLM_F_REPLACE && list.length > 0 ? 0 : -1;
    let changed = false;
    if (at >= 0) changed = this.release(list[at]!);
    const stored = this.storedOf(route, data);
    if (at >= 0) list[at] = stored.value;
    else list.push(stored.value);
    this.store(slot, list);
    return stored.changed || changed;
  }

  /** The link is gone: the kernel removed its routes (IPv4 without telling). */
  linkGone(index: number): boolean {
    return this.removeWhere((hops) => hops.some((h) => h.oif === index));
  }

  /** Set administratively down: the kernel flushed its IPv4 routes without telling. */
  linkAdminDown(index: number): boolean {
    return this.removeWhere((hops, family) => family === 4 && hops.some((h) => h.oif === index));
  }

  /**
   * An IPv4 address was deleted: the kernel flushed, without telling, the routes
   * with it as preferred source, and every IPv4 route of the link if it was the last.
   */
  ipv4AddressGone(address: string, index: number, lastOnLink: boolean): boolean {
    return this.removeWhere(
      (hops, family, prefsrc) =>
        family === 4 && (prefsrc === address || (lastOnLink && hops.some((h) => h.oif === index))),
    );
  }

  /** One KernelRoute per (gateway, interface, kind of route), for probe-target selection; cached. */
  gatewayRoutes(nameOf: (index: number) => string | undefined): KernelRoute[] {
    if (this.cached && this.cachedNames === nameOf) return this.cached;
    this.cachedNames = nameOf;
    const seen = new Set<string>();
    const infos: KernelRoute[] = [];
    for (const s of this.summaries) {
      if (!s) continue;
      // summaries that differ only by source address are one candidate
      const key = `${s.family} ${s.gateway} ${s.oif ?? ''} ${s.cls}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const device = s.oif !== undefined ? nameOf(s.oif) : undefined;
      infos.push({
        family: s.family,
        ...(s.cls === 2 ? {} : { destination: s.dst }),
        prefixLength: s.dstLen,
        gateway: s.gateway,
        ...(device !== undefined ? { device } : {}),
      });
    }
    this.cached = infos;
    return infos;
  }

  /** Drops the cached summary (a link was renamed: device names changed). */
  namesChanged(): void {
    this.cached = undefined;
  }

  /** The routes that follow an address, with today's interface names. */
  wholeRoutes(nameOf: (index: number) => string | undefined): KernelRoute[] {
    const out: KernelRoute[] = [];
    for (const e of this.wholeEntries) {
      const oif = e.nexthops[0]?.oif;
      const device = oif !== undefined ? nameOf(oif) : undefined;
      out.push({ ...e.whole!, ...(device !== undefined ? { device } : {}) });
    }
    return out;
  }

  private storedOf(route: WireRoute, data: Buffer): { value: Stored; changed: boolean } {
    const hostLen = route.family === 4 ? 32 : 128;
    const cls: RouteClass = route.dstLen === 0 ? 2 : route.dstLen === hostLen ? 0 : 1;
    const whole =
      !route.multipath && this.options.keepWhole(route.protocol) ? this.options.parseWhole(data) : undefined;
    let changed = false;
    const ids: number[] = [];
    for (const h of route.nexthops) {
      if (!h.gateway) continue;
      const r = this.retain(route, h, cls);
      ids.push(r.id);
      changed ||= r.created;
    }
    this.kept++;
    // the common case, a plain route through one gateway that stays in the table only as a count
    if (!whole && route.nexthops.length === 1 && ids.length === 1 && this.summaries[ids[0]!]!.prefsrc === route.prefsrc)
      return { value: ids[0]!, changed };
    const entry: Entry = {
      family: route.family,
      nexthops: route.nexthops,
      prefsrc: route.prefsrc,
      summaries: ids,
      whole,
    };
    if (whole) {
      this.wholeEntries.add(entry);
      changed = true;
    }
    return { value: entry, changed };
  }

  private retain(route: WireRoute, hop: NextHop, cls: RouteClass): { id: number; created: boolean } {
    const key = `${route.family} ${hop.gateway} ${hop.oif ?? ''} ${cls} ${route.prefsrc ?? ''}`;
    const id = this.summaryIds.get(key);
    if (id !== undefined) {
      this.summaries[id]!.count++;
      return { id, created: false };
    }
    const fresh = this.freeIds.pop() ?? this.summaries.length;
    this.summaries[fresh] = {
      family: route.family,
      gateway: hop.gateway!,
      oif: hop.oif,
      prefsrc: route.prefsrc,
      cls,
      dst: route.dst,
      dstLen: route.dstLen,
      count: 1,
    };
    this.summaryIds.set(key, fresh);
    this.cached = undefined;
    return { id: fresh, created: true };
  }

  /** Forgets a stored route; true if a gateway went or a whole route changed. */
  private release(s: Stored): boolean {
    this.kept--;
    let changed = false;
    if (typeof s !== 'number' && this.wholeEntries.delete(s)) changed = true;
    for (const id of typeof s === 'number' ? [s] : s.summaries) {
      const summary = this.summaries[id]!;
      if (--summary.count > 0) continue;
      this.summaryIds.delete(
        `${summary.family} ${summary.gateway} ${summary.oif ?? ''} ${summary.cls} ${summary.prefsrc ?? ''}`,
      );
      this.summaries[id] = undefined;
      this.freeIds.push(id);
      this.cached = undefined;
      changed = true;
    }
    return changed;
  }

  /** Does a stored route have these nexthops (the kernel's deletions name them)? */
  private matches(s: Stored, route: WireRoute): boolean {
    if (typeof s === 'number') {
      const summary = this.summaries[s]!;
      const hop = route.nexthops[0];
      return route.nexthops.length === 1 && hop?.gateway === summary.gateway && hop.oif === summary.oif;
    }
    return (
      s.nexthops.length === route.nexthops.length &&
      s.nexthops.every((h, i) => h.gateway === route.nexthops[i]!.gateway && h.oif === route.nexthops[i]!.oif)
    );
  }

  private store(slot: string | number, list: Stored[]): void {
    if (list.length === 0) this.slots.delete(slot);
    else this.slots.set(slot, list.length === 1 ? list[0]! : list);
  }

  private removeWhere(
    pred: (hops: readonly NextHop[], family: Family, prefsrc: string | undefined) => boolean,
  ): boolean {
    let changed = false;
    for (const [slot, v] of this.slots) {
      const list = Array.isArray(v) ? v : [v];
      const kept = list.filter((s) => {
        const view = this.viewOf(s);
        if (!pred(view.nexthops, view.family, view.prefsrc)) return true;
        changed = this.release(s) || changed;
        return false;
      });
      if (kept.length !== list.length) this.store(slot, kept);
    }
    return changed;
  }

  private viewOf(s: Stored): { nexthops: readonly NextHop[]; family: Family; prefsrc: string | undefined } {
    if (typeof s !== 'number') return s;
    const summary = this.summaries[s]!;
    return {
      nexthops: [{ gateway: summary.gateway, ...(summary.oif !== undefined ? { oif: summary.oif } : {}) }],
      family: summary.family,
      prefsrc: summary.prefsrc,
    };
  }
}

/**
 * The kernel's identity of a route. An IPv4 route with ToS 0 and a metric below
 * 2^15 (nearly all) gets a number, (destination, length, metric) packed into 53
 * bits: a third of a string key's memory in a table of a million routes.
 */
function slotKey(r: WireRoute): string | number {
  if (r.family === 4 && r.tos === 0 && r.priority < 32768) return ((r.dst4 ?? 0) * 64 + r.dstLen) * 32768 + r.priority;
  return `${r.family} ${r.dst ?? ''}/${r.dstLen} ${r.tos} ${r.priority}`;
}
