// The kernel's links, addresses and routes over rtnetlink, kept from multicast
// notifications applied in place, and the requests that change them.
//
// Four sockets, so that nothing waits behind anything else:
//  - events: notifications (native/nlevents.c), read by hand (wire.ts): a route
//    change costs a header read and a few attributes, not a dump; lost ones
//    (ENOBUFS) are a re-read, never the end of the process;
//  - routes: full route dumps (start, lost notifications, new follow_route_protocols),
//    streamed into a fresh table while notifications keep flowing;
//  - reads: link and address dumps (small), one at a time;
//  - writes: address and route changes, all in flight at once, never queued
//    behind a read: a failover's first request leaves at once.
// Every callback the native module calls is guarded: an exception escaping into
// native code aborts the process (the Napi::Error abort), so it is logged and
// answered with a re-read instead.

import { createRtNetlink, FlagsNew, type RtNetlinkSocket } from 'netlink';
import { parseMessage, parseRouteMessage, type AddressMessage, type LinkMessage } from 'netlink/dist/rt/structs.js';
import { protocolNumber } from '../../config/routeProtocols.js';
import type { Cidr } from '../../config/types.js';
import type { KernelAddress, KernelLink, KernelOps, KernelView } from '../../daemon/ports.js';
import { afOf, cidrText, textToIp, toAddress, toLink, toRoute, type RouteExtras } from './convert.js';
import { ChangeListeners } from './changeListeners.js';
import { ENOBUFS, NetlinkEventSocket } from './eventSocket.js';
import { FormerNames, linkNamed } from './formerNames.js';
import { AddressSet } from './addressSet.js';
import { collectGarbage } from './collectGarbage.js';
import { RouteDumpSocket } from './routeDump.js';
import { RouteTable } from './routeTable.js';
import { messagesIn, RTM_DELADDR, RTM_DELLINK, RTM_DELROUTE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE } from './wire.js';
import { RT_TABLE_MAIN, type KernelRoute } from '../../core/route.js';

/** RTNLGRP_LINK, _IPV4_IFADDR, _IPV4_ROUTE, _IPV6_IFADDR, _IPV6_ROUTE */
const GROUPS = [1, 5, 7, 9, 11];
const RESYNC_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];
/** A burst of route changes must fit: 32 MiB (granted as root, whatever net.core.rmem_max says). */
const EVENTS_BUFFER_BYTES = 32 << 20;

export type RtnlWarn = (event: string, message: string, error?: Error) => void;

export interface RtnlOptions {
  /** Origins of the routes kept whole (the ones that follow a data address). */
  followRouteProtocols: readonly string[];
  warn?: RtnlWarn;
  /** The notification socket's receive buffer (tests make it small to force lost notifications). */
  eventsBufferBytes?: number;
}

export class Rtnl implements KernelView, KernelOps {
  private linksNow: KernelLink[] = [];
  private readonly addressSet = new AddressSet();
  private follow: ReadonlySet<number>;
  private table: RouteTable;
  /** Route notifications that arrived while a route dump runs, replayed over its result. */
  private replay: Array<{ type: number; flags: number; data: Buffer }> | undefined;
  private readonly listeners: ChangeListeners;
  private readsTurn: Promise<unknown> = Promise.resolve();
  private resyncAttempt = 0;
  private resyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private notifyPending = false;
  private readonly formerNames = new FormerNames();
  /** Re-read links and addresses; concurrent calls coalesce into at most one more. */
  readonly refresh = coalesced(
    () => this.dumpLinksAndAddresses(),
    () => this.notify(),
  );
  /** Re-read every route into a fresh table; coalesced likewise. */
  readonly resyncRoutes = coalesced(
    () => this.dumpRoutes(),
    () => this.notify(),
  );
  private readonly nameOf = (index: number) => this.linksNow.find((l) => l.index === index)?.name;

  private constructor(
    private events: NetlinkEventSocket | undefined,
    private readonly routeDumps: RouteDumpSocket,
    private readonly reads: RtNetlinkSocket,
    private readonly writes: RtNetlinkSocket,
    options: RtnlOptions,
    private readonly warn: RtnlWarn,
  ) {
    this.follow = protocolSet(options.followRouteProtocols);
    this.listeners = new ChangeListeners(warn, RESYNC_BACKOFF_MS);
    this.table = this.newTable();
  }

  static async open(options: RtnlOptions): Promise<Rtnl> {
    const warn = options.warn ?? (() => undefined);
    const reads = createRtNetlink({ recvBufferSize: 1 << 22, sendBufferSize: 1 << 16 });
    const writes = createRtNetlink({ recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    const routeDumps = new RouteDumpSocket((err) => warn('rtnetlink_error', `route dump socket: ${err.message}`, err));
    const rtnl = new Rtnl(undefined, routeDumps, reads, writes, options, warn);
    rtnl.events = new NetlinkEventSocket(
      GROUPS,
      options.eventsBufferBytes ?? EVENTS_BUFFER_BYTES,
      (datagram) => rtnl.guard('a notification', () => rtnl.receive(datagram)),
      // ENOBUFS: the buffer overflowed and notifications were lost; re-read everything
      (errno) =>
        rtnl.guard('the notification socket', () =>
          rtnl.resync(
            errno === ENOBUFS
              ? 'notifications were lost (ENOBUFS: the receive buffer overflowed)'
              : `notification socket error ${errno}`,
          ),
        ),
    );
    for (const s of [reads, writes]) {
      // an 'error' event nobody listens to throws, here into native code: always listen
      s.socket.on('error', (err) => warn('rtnetlink_error', `request socket: ${err.message}`, err));
      s.on('invalid', (err: Error) => warn('rtnetlink_error', `unreadable reply: ${err.message}`, err));
    }
    await rtnl.refresh();
    await rtnl.resyncRoutes();
    collectGarbage();
    return rtnl;
  }

  onChange(cb: () => void): void {
    this.listeners.add(cb);
  }

  links(): KernelLink[] {
    return this.linksNow;
  }
  holdersOf(address: string): string[] {
    return this.addressSet.holdersOf(address);
  }
  addresses(): KernelAddress[] {
    return this.addressSet.list();
  }
  /** The routes that follow a data address (origin in follow_route_protocols), whole. */
  routes(): KernelRoute[] {
    return this.table.wholeRoutes(this.nameOf);
  }
  /** One entry per gateway and kind of route, for probe targets; cached until it changes. */
  gatewayRoutes(): KernelRoute[] {
    return this.table.gatewayRoutes(this.nameOf);
  }
  /** How many routes are kept (whole or counted) and how many whole: for the metrics and the bench. */
  routeCounts(): { kept: number; whole: number } {
    return { kept: this.table.size, whole: this.table.wholeSize };
  }

  /** A reload changed follow_route_protocols: the table must be read again with the new rule. */
  setFollowRouteProtocols(names: readonly string[]): void {
    const next = protocolSet(names);
    if (next.size === this.follow.size && [...next].every((p) => this.follow.has(p))) return;
    this.follow = next;
    this.resyncRoutes().catch((err: Error) => this.resync(`re-reading routes failed: ${err.message}`));
  }

  private newTable(): RouteTable {
    return new RouteTable({
      keepWhole: (protocol) => this.follow.has(protocol),
      parseWhole: (data) => toRoute(parseRouteMessage(data), () => undefined),
    });
  }

  /** Runs a native callback's work; nothing escapes into native code. */
  private guard(what: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.warn('rtnetlink_error', `handling ${what}: ${(err as Error).message}`, err as Error);
      this.scheduleResync(`an error while handling ${what}`);
    }
  }

  /** One datagram of notifications, applied in place. */
  private receive(datagram: Buffer): void {
    let changed = false;
    for (const m of messagesIn(datagram)) {
      if (m.type === RTM_NEWROUTE || m.type === RTM_DELROUTE) {
        this.replay?.push({ type: m.type, flags: m.flags, data: Buffer.from(m.data) });
        changed = this.table.apply(m.type, m.flags, m.data) || changed;
      } else if (m.type === RTM_NEWLINK || m.type === RTM_DELLINK) {
        this.applyLink(m.type === RTM_NEWLINK, parseMessage(m.type, m.data) as LinkMessage);
        changed = true;
      } else if (m.type === RTM_NEWADDR || m.type === RTM_DELADDR) {
        this.applyAddress(m.type === RTM_NEWADDR, parseMessage(m.type, m.data) as AddressMessage);
        changed = true;
      }
    }
    if (changed) this.notifySoon();
  }

  /**
   * Listeners hear once per turn of the event loop: the native reader hands over
   * up to 32 datagrams per turn (a failover of hundreds of addresses, a burst of
   * route changes), and the engine needs the result, not every step.
   */
  private notifySoon(): void {
    if (this.notifyPending) return;
    this.notifyPending = true;
    setImmediate(() => {
      this.notifyPending = false;
      this.notify();
    });
  }

  private applyLink(isNew: boolean, m: LinkMessage): void {
    const index = m.data.index;
    const old = this.linksNow.find((l) => l.index === index);
    if (!isNew) {
      this.linksNow = this.linksNow.filter((l) => l.index !== index);
      if (old) this.addressSet.forDevice(old.name);
      if (index !== undefined) {
        this.table.linkGone(index);
        this.formerNames.forget(index);
      }
      return;
    }
    const link = toLink(m);
    if (!link) return;
    this.linksNow = this.formerNames.update(
      this.linksNow,
      old ? this.linksNow.map((l) => (l.index === link.index ? link : l)) : [...this.linksNow, link],
    );
    if (old && old.name !== link.name) {
      // renamed: same index, same addresses and routes, another name
      this.addressSet.forDevice(old.name, link.name);
      this.table.namesChanged();
    }
    if (old?.adminUp && !link.adminUp) this.table.linkAdminDown(link.index);
  }

  private applyAddress(isNew: boolean, m: AddressMessage): void {
    const a = toAddress(m, this.nameOf);
    if (!a) return;
    if (isNew) this.addressSet.add(a);
    else this.addressSet.remove(a);
    if (!isNew && a.cidr.family === 4 && m.data.index !== undefined) {
      this.table.ipv4AddressGone(a.cidr.address, m.data.index, !this.addressSet.anyOn(a.device, 4));
    }
  }

  private notify(): void {
    this.listeners.notify();
  }

  private async dumpLinksAndAddresses(): Promise<void> {
    const [links, addrs] = await this.read(
      async () => [await this.reads.getLinks(), await this.reads.getAddresses()] as const,
    );
    this.linksNow = this.formerNames.update(
      this.linksNow,
      links.map(toLink).filter((l): l is KernelLink => l !== undefined),
    );
    const names = new Map(this.linksNow.map((l) => [l.index, l.name]));
    this.addressSet.replaceAll(
      addrs.map((a) => toAddress(a, (i) => names.get(i))).filter((a): a is KernelAddress => a !== undefined),
    );
    this.table.namesChanged();
  }

  private async dumpRoutes(): Promise<void> {
    const fresh = this.newTable();
    this.replay = [];
    try {
      await this.routeDumps.dump((type, flags, data) => fresh.apply(type, flags, data));
      for (const r of this.replay) fresh.apply(r.type, r.flags, r.data);
      this.table = fresh;
    } finally {
      this.replay = undefined;
    }
  }

  /** Everything again, retried with backoff until it works. */
  private resync(reason: string): void {
    if (this.closed) return;
    this.warn('rtnetlink_resync', `re-reading links, addresses and routes: ${reason}`);
    Promise.all([this.refresh(), this.resyncRoutes()]).then(
      () => {
        this.resyncAttempt = 0;
      },
      (err: Error) => this.scheduleResync(`the re-read failed: ${err.message}`),
    );
  }

  private scheduleResync(reason: string): void {
    if (this.closed || this.resyncTimer) return;
    const delay = RESYNC_BACKOFF_MS[Math.min(this.resyncAttempt++, RESYNC_BACKOFF_MS.length - 1)]!;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      this.resync(reason);
    }, delay);
    this.resyncTimer.unref();
  }

  private read<T>(run: () => Promise<T>): Promise<T> {
    const result = this.readsTurn.then(run, run);
    this.readsTurn = result.catch(() => undefined);
    return result;
  }

  /**
   * The index of the interface named `device`. Deletions (`followRenames`) also find
   * a NIC renamed away from that name: what ipmpd put on it must still come off, or
   * an address would stay on two NICs. Additions never go to a renamed NIC.
   */
  private indexOf(device: string, followRenames = false): number {
    const l = linkNamed(this.linksNow, device, followRenames);
    if (!l) throw new Error(`no interface named ${device}`);
    return l.index;
  }

  async addAddress(
    device: string,
    cidr: Cidr,
    opts: { nodad?: boolean; noprefixroute?: boolean; label?: string } = {},
  ): Promise<void> {
    const ip = textToIp(cidr.address, cidr.family);
    try {
      await this.writes.newAddress(
        { family: afOf(cidr.family), prefixlen: cidr.prefixLength, index: this.indexOf(device), scope: 0 },
        {
          local: ip,
          address: ip,
          ...(cidr.family === 4 && opts.label ? { label: opts.label } : {}),
          flags: { ...(opts.nodad ? { nodad: true } : {}), ...(opts.noprefixroute ? { noprefixroute: true } : {}) },
        },
        { flags: FlagsNew.CREATE | FlagsNew.EXCL },
      );
    } catch (err) {
      if (/EEXIST/.test((err as Error).message)) return;
      throw new Error(`adding ${cidrText(cidr)} to ${device}: ${(err as Error).message}`);
    }
    this.wroteAddress(true, { device, cidr, secondary: false, noprefixroute: opts.noprefixroute === true });
  }

  /**
   * The kernel acknowledged an address change: the view says so at once. The
   * notification comes on another socket and may be read later; until then a
   * caller asking where the address is must not be told "nowhere".
   */
  private wroteAddress(added: boolean, a: KernelAddress): void {
    const present = this.addressSet.has(a);
    if (added && !present) this.addressSet.add(a);
    else if (!added && present) this.addressSet.remove(a);
  }

  async deleteAddress(device: string, cidr: Cidr): Promise<void> {
    const ip = textToIp(cidr.address, cidr.family);
    try {
      await this.writes.delAddress(
        { family: afOf(cidr.family), prefixlen: cidr.prefixLength, index: this.indexOf(device, true) },
        { local: ip, address: ip },
      );
    } catch (err) {
      if (!/EADDRNOTAVAIL|ENODEV/.test((err as Error).message))
        throw new Error(`deleting ${cidrText(cidr)} from ${device}: ${(err as Error).message}`);
    }
    this.wroteAddress(false, { device, cidr, secondary: false, noprefixroute: false });
  }

  async replaceRoute(r: KernelRoute): Promise<void> {
    try {
      await this.writes.newRoute(this.routeData(r), this.routeAttrs(r), { flags: FlagsNew.CREATE | FlagsNew.REPLACE });
    } catch (err) {
      throw new Error(`replacing route ${describe(r)}: ${(err as Error).message}`);
    }
  }

  /** The route as it was read: a moved route keeps its origin and ToS. */
  private routeData(r: KernelRoute) {
    const extras = r.extras as RouteExtras | undefined;
    return {
      family: afOf(r.family),
      dstLen: r.prefixLength,
      table: r.table ?? RT_TABLE_MAIN,
      protocol: protocolNumber(r.protocol),
      scope: (r.gateway
        ? 'UNIVERSE'
        : r.scope === 'host'
          ? 'HOST'
          : r.scope === 'link'
            ? 'LINK'
            : 'UNIVERSE') as 'UNIVERSE',
      type: 'UNICAST' as const,
      ...(extras?.tos ? { tos: extras.tos } : {}),
    };
  }

  private routeAttrs(r: KernelRoute) {
    return {
      ...(r.destination ? { dst: textToIp(r.destination, r.family) } : {}),
      ...(r.gateway ? { gateway: textToIp(r.gateway, r.family) } : {}),
      ...(r.device ? { oif: this.indexOf(r.device) } : {}),
      ...(r.prefsrc ? { prefsrc: textToIp(r.prefsrc, r.family) } : {}),
      ...(r.metric !== undefined ? { priority: r.metric } : {}),
      ...extraAttrs(r.extras as RouteExtras | undefined),
    };
  }

  close(): void {
    this.closed = true;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.listeners.close();
    this.events?.close();
    this.events = undefined;
    this.routeDumps.close();
    this.reads.socket.close();
    this.writes.socket.close();
  }
}

function protocolSet(names: readonly string[]): ReadonlySet<number> {
  return new Set(names.map(protocolNumber));
}

/** MTU and the other RTA_METRICS, IPv6 preference, realm: written back as read. */
function extraAttrs(e: RouteExtras | undefined) {
  if (!e) return {};
  return {
    ...(e.metrics ? { metrics: e.metrics } : {}),
    ...(e.pref ? { pref: e.pref } : {}),
    ...(e.flow !== undefined ? { flow: e.flow } : {}),
  };
}

/**
 * Runs `run` once per call, except that calls arriving while it runs are folded
 * into a single re-run; `done` follows the last run.
 */
function coalesced(run: () => Promise<void>, done: () => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await run();
        } while (again);
      } finally {
        running = undefined;
      }
      done();
    })();
    return running;
  };
}

function describe(r: KernelRoute): string {
  return `${r.destination ? `${r.destination}/${r.prefixLength}` : 'default'}${r.gateway ? ` via ${r.gateway}` : ''}${r.device ? ` dev ${r.device}` : ''}`;
}
