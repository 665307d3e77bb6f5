// One raw ICMP socket per (interface, family), pinned to the interface with
// SO_BINDTODEVICE. Probes carry their own IP header (IP_HDRINCL, IPV6_HDRINCL)
// so the source is the test address even when the NIC holds data addresses or
// several link-local addresses: the kernel's own choice need not be it. (A
// sticky IPV6_PKTINFO sets only the outgoing interface for raw sockets, not the
// source; bind() would also filter what the socket receives.)
// Replies are matched by identifier and nonce here; by sequence and source in
// the engine.

import { randomBytes } from 'node:crypto';
import raw, { type Socket as RawSocket } from 'raw-socket';
import type { Family, ProbeMethod } from '../../config/types.js';
import type { ProbeKind, ProbeReply } from '../../core/types.js';
import { nsToMs } from '../../daemon/clock.js';
import type { IgnoredReason } from '../../metrics/eventMetrics.js';
import {
  bindToDevice,
  ICMP6_FILTER,
  ICMP_FILTER,
  IP_HDRINCL,
  IPPROTO_ICMPV6,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_HDRINCL,
  IPV6_MULTICAST_LOOP,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOL_RAW,
  SOL_SOCKET,
} from '../socketOptions.js';
import {
  encodeEchoRequest,
  ipv4Header,
  ipv6Header,
  parseEchoReply,
  probeIdentifier,
  refillEchoRequest,
} from './packet.js';
import { enableReceiveStamps, kernelArrivalMs, socketFds } from './rxStamp.js';
import { sendFailure, type SendFailure } from './sendErrors.js';

export interface ProbeRequest {
  ifname: string;
  family: Family;
  /** icmp here; ARP requests go to src/net/arp (the adapter routes them). */
  method: ProbeMethod;
  source: string;
  target: string;
  seq: number;
  kind: ProbeKind;
}

interface Endpoint {
  socket: RawSocket;
  id: number;
  nonce: Buffer;
  ifname: string;
  family: Family;
  /** a built probe per target, refilled for each send (no allocation per probe) */
  templates: Map<string, ProbeTemplate>;
  /** the socket's fd when the kernel stamps its arrivals (see rxStamp.ts) */
  stampFd: number | undefined;
}

interface ProbeTemplate {
  source: string;
  kind: ProbeKind;
  packet: Buffer;
  icmpOffset: number;
  address: string;
}

/** Targets come and go (multicast discovery, route changes): rebuild rather than grow without bound. */
const MAX_TEMPLATES = 64;

export class IcmpProber {
  private readonly endpoints = new Map<string, Endpoint>();
  private replyHandler: (r: ProbeReply) => void = () => {};
  private ignoredHandler: (reason: IgnoredReason) => void = () => {};
  private sendErrorHandler: (p: ProbeRequest, failure: SendFailure) => void = () => {};

  onReply(cb: (r: ProbeReply) => void): void {
    this.replyHandler = cb;
  }
  onIgnored(cb: (reason: IgnoredReason) => void): void {
    this.ignoredHandler = cb;
  }
  /** sendto() failed (a firewall rule, no route, no buffer space): called after send() returned. */
  onSendError(cb: (p: ProbeRequest, failure: SendFailure) => void): void {
    this.sendErrorHandler = cb;
  }

  /** Open the socket for an interface and family (idempotent). Throws with a clear message without CAP_NET_RAW. */
  open(ifname: string, ifindex: number, family: Family): void {
    const key = `${ifname}/${family}`;
    if (this.endpoints.has(key)) return;
    let socket: RawSocket;
    const socketsBefore = socketFds();
    try {
      socket = raw.createSocket({
        addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
        protocol: family === 4 ? raw.Protocol.ICMP : raw.Protocol.ICMPv6,
        bufferSize: 2048,
      });
    } catch (err) {
      throw new Error(
        `cannot open a raw ICMP${family === 6 ? 'v6' : ''} socket for ${ifname}: ${(err as Error).message} (ipmpd needs CAP_NET_RAW)`,
      );
    }
    bindToDevice(socket, ifname);
    // a raw socket sees every ICMP packet of its type on the NIC: a flood of someone else's
    // echo replies must not crowd ours out while the event loop is busy (4 MiB; as root
    // SO_RCVBUFFORCE lifts net.core.rmem_max, else SO_RCVBUF gets what rmem_max allows)
    const rcvbuf = Buffer.alloc(4);
    rcvbuf.writeInt32LE(4 << 20);
    try {
      socket.setOption(SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf, 4);
    } catch {
      socket.setOption(SOL_SOCKET, SO_RCVBUF, rcvbuf, 4);
    }
    if (family === 4) {
      socket.setOption(IPPROTO_IP, IP_HDRINCL, 1);
      // ICMP_FILTER: a mask of types to drop; keep only echo reply (type 0)
      const mask = Buffer.alloc(4);
      mask.writeUInt32LE(~1 >>> 0);
      socket.setOption(SOL_RAW, ICMP_FILTER, mask, 4);
    } else {
      const filter = Buffer.alloc(32, 0xff); // block everything...
      filter[129 >> 3]! &= ~(1 << (129 & 7)); // ...but echo reply
      socket.setOption(IPPROTO_ICMPV6, ICMP6_FILTER, filter, 32);
      try {
        socket.setOption(IPPROTO_IPV6, IPV6_HDRINCL, 1); // the hop limit is in our header now
      } catch (err) {
        socket.close();
        throw new Error(
          `cannot give ${ifname}'s ICMPv6 probe socket our own IPv6 header (IPV6_HDRINCL, Linux 4.5 or later): ${(err as Error).message}`,
        );
      }
      socket.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    }
    const ep: Endpoint = {
      socket,
      id: probeIdentifier(process.pid, ifindex),
      nonce: randomBytes(8),
      ifname,
      family,
      templates: new Map(),
      stampFd: enableReceiveStamps(socketsBefore),
    };
    socket.on('message', (buffer: Buffer, source: string) => this.receive(ep, buffer, source));
    socket.on('error', () => this.endpoints.delete(key)); // raw-socket closes it; reopened on next open()
    this.endpoints.set(key, ep);
  }

  close(ifname: string, family: Family): void {
    const key = `${ifname}/${family}`;
    this.endpoints.get(key)?.socket.close();
    this.endpoints.delete(key);
  }

  closeAll(): void {
    for (const ep of this.endpoints.values()) ep.socket.close();
    this.endpoints.clear();
  }

  /** Queue a probe; false when there is no socket for it. Send errors arrive through onSendError. */
  send(p: ProbeRequest): boolean {
    const ep = this.endpoints.get(`${p.ifname}/${p.family}`);
    if (!ep) return false;
    const t = this.template(ep, p);
    const sendNow = ep.socket.wrap?.send;
    if (sendNow) {
      // Straight to sendto(), which copies the packet at once (so the template can be
      // reused): raw-socket's send() would wait for a writable event, costing two more
      // loop turns and four epoll_ctl calls per probe, and delaying the packet.
      // The RTT starts right before sendto(), as ping's does.
      refillEchoRequest(p.family, t.packet, t.icmpOffset, p.seq, process.hrtime.bigint());
      try {
        sendNow.call(ep.socket.wrap, t.packet, 0, t.packet.length, t.address, () => undefined);
      } catch (err) {
        // reported after send() returns: the engine that asked for the probe may still be busy
        const failure = sendFailure(err);
        queueMicrotask(() => this.sendErrorHandler(p, failure));
      }
      return true;
    }
    // raw-socket queues the buffer until the socket is writable: give it its own copy
    const packet = Buffer.from(t.packet);
    const stamp = () => refillEchoRequest(p.family, packet, t.icmpOffset, p.seq, process.hrtime.bigint());
    ep.socket.send(packet, 0, packet.length, t.address, stamp, (err: Error | null) => {
      if (err) this.sendErrorHandler(p, sendFailure(err));
    });
    return true;
  }

  private template(ep: Endpoint, p: ProbeRequest): ProbeTemplate {
    const cached = ep.templates.get(p.target);
    if (cached && cached.source === p.source && cached.kind === p.kind) return cached;
    const multicast = p.kind === 'multi';
    const echo = encodeEchoRequest(p.family, { id: ep.id, seq: 0, sentAtNs: 0n, kind: p.kind, nonce: ep.nonce });
    // in.mpathd sends with TTL 1; ipmpd keeps 1 for all-hosts discovery (link-local by nature)
    // and uses 64 for unicast so a target behind a router on the same wire still answers
    const ttl = multicast ? 1 : 64;
    const header =
      p.family === 4
        ? ipv4Header(p.source, p.target, ttl, echo.length)
        : ipv6Header(p.source, p.target, ttl, echo.length);
    const packet = Buffer.concat([header, echo]);
    const address =
      p.family === 6 && (p.target.startsWith('fe80:') || p.target.startsWith('ff02:'))
        ? `${p.target}%${p.ifname}`
        : p.target;
    const t: ProbeTemplate = {
      source: p.source,
      kind: p.kind,
      packet,
      icmpOffset: packet.length - echo.length,
      address,
    };
    if (ep.templates.size >= MAX_TEMPLATES) ep.templates.clear();
    ep.templates.set(p.target, t);
    return t;
  }

  private receive(ep: Endpoint, buffer: Buffer, source: string): void {
    const receivedAtNs = process.hrtime.bigint();
    const parsed = parseEchoReply(ep.family, buffer);
    if (!parsed.ok) {
      if (parsed.reason !== 'not_echo_reply') this.ignoredHandler('malformed');
      return;
    }
    if (parsed.id !== ep.id || !parsed.nonce.equals(ep.nonce)) {
      this.ignoredHandler('foreign_identifier');
      return;
    }
    const sentAt = nsToMs(parsed.sentAtNs);
    const seenAt = nsToMs(receivedAtNs);
    this.replyHandler({
      ifname: ep.ifname,
      family: ep.family,
      source: source.split('%')[0]!,
      seq: parsed.seq,
      kind: parsed.kind,
      sentAt,
      receivedAt: (ep.stampFd !== undefined ? kernelArrivalMs(ep.stampFd, sentAt, seenAt) : undefined) ?? seenAt,
    });
  }
}
