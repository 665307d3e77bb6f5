// The kernel's links, addresses and routes over rtnetlink, kept fresh from
// multicast notifications, and the requests that change them. Two sockets: one
// for notifications, one for requests (the netlink package matches replies by
// sequence number only, and notifications carry the requester's sequence).

import { createRtNetlink, FlagsNew, type RtNetlinkSocket } from 'netlink';
import { parseMessage, type AddressMessage, type LinkMessage, type RouteMessage } from 'netlink/dist/rt/structs.js';
import type { NetlinkMessage } from 'netlink/dist/structs.js';
import type { Cidr } from '../../config/types.js';
import type { KernelAddress, KernelLink, KernelOps, KernelRoute, KernelView } from '../../daemon/ports.js';
import { protocolNumber } from '../../config/routeProtocols.js';
import { afOf, cidrText, textToIp, toAddress, toLink, toRoute, type RouteExtras } from './convert.js';

const RT_TABLE_MAIN = 254;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;

export class Rtnl implements KernelView, KernelOps {
  private linksNow: KernelLink[] = [];
  private addressesNow: KernelAddress[] = [];
  private routesNow: KernelRoute[] = [];
  private readonly listeners = new Set<() => void>();
  /** Re-read everything; concurrent calls coalesce into at most one more dump. */
  readonly refresh = coalesced(() => this.dump(), () => this.notify());
  /** Re-read the routes alone, coalesced likewise. */
  private readonly refreshRoutes = coalesced(async () => {
    this.routesNow = this.routesFrom(await this.serial(() => this.requests.getRoutes()));
  }, () => this.notify());
  /** Requests and dumps take turns on the request socket: the package cannot interleave replies. */
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly events: RtNetlinkSocket,
    private readonly requests: RtNetlinkSocket,
  ) {}

  static async open(): Promise<Rtnl> {
    const events = createRtNetlink({ ref: true, recvBufferSize: 1 << 20, sendBufferSize: 1 << 16 });
    const requests = createRtNetlink({ recvBufferSize: 1 << 22, sendBufferSize: 1 << 16 });
    const rtnl = new Rtnl(events, requests);
    for (const g of ['LINK', 'IPV4_IFADDR', 'IPV6_IFADDR', 'IPV4_ROUTE', 'IPV6_ROUTE'] as const) events.addMembership(g);
    // the raw socket's messages keep their type (NEW or DEL); the package's parsed ones do not
    events.socket.on('message', (messages: NetlinkMessage[]) => rtnl.apply(messages));
    // ENOBUFS: notifications were lost; a full dump puts us right again
    events.socket.on('error', () => rtnl.refresh());
    requests.socket.on('error', () => undefined);
    await rtnl.refresh();
    return rtnl;
  }

  onChange(cb: () => void): void {
    this.listeners.add(cb);
  }

  links(): KernelLink[] {
    return this.linksNow;
  }
  addresses(): KernelAddress[] {
    return this.addressesNow;
  }
  routes(): KernelRoute[] {
    return this.routesNow;
  }

  /**
   * Link and address notifications are applied as they come: a carrier loss reaches
   * the engine without a dump round trip (and without queueing an address move behind
   * one). Routes are re-read instead, coalesced: the kernel does not notify IPv4 routes
   * flushed by a link or address change, and route changes are rare.
   */
  apply(messages: readonly NetlinkMessage[]): void {
    let changed = false;
    let routesStale = false;
    for (const m of messages) {
      try {
        if (m.type === RTM_NEWLINK || m.type === RTM_DELLINK) {
          const renamed = this.applyLink(m.type === RTM_NEWLINK, parseMessage(m.type, m.data) as LinkMessage);
          if (renamed) return void this.refresh();
          changed = routesStale = true;
        } else if (m.type === RTM_NEWADDR || m.type === RTM_DELADDR) {
          this.applyAddress(m.type === RTM_NEWADDR, parseMessage(m.type, m.data) as AddressMessage);
          changed = routesStale = true;
        } else if (m.type === RTM_NEWROUTE || m.type === RTM_DELROUTE) {
          routesStale = true;
        }
      } catch {
        return void this.refresh(); // a message we cannot read: fall back to the kernel's full view
      }
    }
    if (changed) this.notify();
    if (routesStale) this.refreshRoutes().catch(() => undefined); // the next notification or dump retries
  }

  /** @returns true if the link was renamed (addresses and routes name it: re-read all). */
  private applyLink(isNew: boolean, m: LinkMessage): boolean {
    const index = m.data.index;
    if (!isNew) {
      const gone = this.linksNow.find((l) => l.index === index);
      this.linksNow = this.linksNow.filter((l) => l.index !== index);
      if (gone) this.addressesNow = this.addressesNow.filter((a) => a.device !== gone.name);
      return false;
    }
    const link = toLink(m);
    if (!link) return false;
    const old = this.linksNow.find((l) => l.index === link.index);
    this.linksNow = old ? this.linksNow.map((l) => (l.index === link.index ? link : l)) : [...this.linksNow, link];
    return old !== undefined && old.name !== link.name;
  }

  private applyAddress(isNew: boolean, m: AddressMessage): void {
    const a = toAddress(m, (i) => this.linksNow.find((l) => l.index === i)?.name);
    if (!a) return;
    const same = (b: KernelAddress) => b.device === a.device && b.cidr.family === a.cidr.family && b.cidr.address === a.cidr.address && b.cidr.prefixLength === a.cidr.prefixLength;
    const others = this.addressesNow.filter((b) => !same(b));
    this.addressesNow = isNew ? [...others, a] : others;
  }

  private notify(): void {
    for (const cb of this.listeners) cb();
  }

  private async dump(): Promise<void> {
    const [links, addrs, routes] = await this.serial(async () => [await this.requests.getLinks(), await this.requests.getAddresses(), await this.requests.getRoutes()] as const);
    this.linksNow = links.map(toLink).filter((l): l is KernelLink => l !== undefined);
    const names = new Map(this.linksNow.map((l) => [l.index, l.name]));
    this.addressesNow = addrs.map((a) => toAddress(a, (i) => names.get(i))).filter((a): a is KernelAddress => a !== undefined);
    this.routesNow = this.routesFrom(routes);
  }

  private routesFrom(messages: readonly RouteMessage[]): KernelRoute[] {
    const names = new Map(this.linksNow.map((l) => [l.index, l.name]));
    return messages.map((r) => toRoute(r, (i) => names.get(i))).filter((r): r is KernelRoute => r !== undefined);
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const result = this.turn.then(run, run);
    this.turn = result.catch(() => undefined);
    return result;
  }

  private indexOf(device: string): number {
    const l = this.linksNow.find((x) => x.name === device);
    if (!l) throw new Error(`no interface named ${device}`);
    return l.index;
  }

  async addAddress(device: string, cidr: Cidr, opts: { nodad?: boolean; noprefixroute?: boolean; label?: string } = {}): Promise<void> {
    const ip = textToIp(cidr.address, cidr.family);
    try {
      await this.serial(() => this.requests.newAddress(
        { family: afOf(cidr.family), prefixlen: cidr.prefixLength, index: this.indexOf(device), scope: 0 },
        {
          local: ip,
          address: ip,
          ...(cidr.family === 4 && opts.label ? { label: opts.label } : {}),
          flags: { ...(opts.nodad ? { nodad: true } : {}), ...(opts.noprefixroute ? { noprefixroute: true } : {}) },
        },
        { flags: FlagsNew.CREATE | FlagsNew.EXCL },
      ));
    } catch (err) {
      if (/EEXIST/.test((err as Error).message)) return;
      throw new Error(`adding ${cidrText(cidr)} to ${device}: ${(err as Error).message}`);
    }
  }

  async deleteAddress(device: string, cidr: Cidr): Promise<void> {
    const ip = textToIp(cidr.address, cidr.family);
    try {
      await this.serial(() => this.requests.delAddress({ family: afOf(cidr.family), prefixlen: cidr.prefixLength, index: this.indexOf(device) }, { local: ip, address: ip }));
    } catch (err) {
      if (/EADDRNOTAVAIL|ENODEV/.test((err as Error).message)) return;
      throw new Error(`deleting ${cidrText(cidr)} from ${device}: ${(err as Error).message}`);
    }
  }

  async replaceRoute(r: KernelRoute): Promise<void> {
    try {
      await this.serial(() => this.requests.newRoute(this.routeData(r), this.routeAttrs(r), { flags: FlagsNew.CREATE | FlagsNew.REPLACE }));
    } catch (err) {
      throw new Error(`replacing route ${describe(r)}: ${(err as Error).message}`);
    }
  }

  async deleteRoute(r: KernelRoute): Promise<void> {
    try {
      await this.serial(() => this.requests.delRoute(this.routeData(r), this.routeAttrs(r)));
    } catch (err) {
      if (/ESRCH/.test((err as Error).message)) return;
      throw new Error(`deleting route ${describe(r)}: ${(err as Error).message}`);
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
      scope: (r.gateway ? 'UNIVERSE' : r.scope === 'host' ? 'HOST' : r.scope === 'link' ? 'LINK' : 'UNIVERSE') as 'UNIVERSE',
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
    this.events.socket.close();
    this.requests.socket.close();
  }
}

/** MTU and the other RTA_METRICS, IPv6 preference, realm: written back as read. */
function extraAttrs(e: RouteExtras | undefined) {
  if (!e) return {};
  return { ...(e.metrics ? { metrics: e.metrics } : {}), ...(e.pref ? { pref: e.pref } : {}), ...(e.flow !== undefined ? { flow: e.flow } : {}) };
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
