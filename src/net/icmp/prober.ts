// The probe path's adapter. One raw socket per address family serves every
// probed NIC (native/icmpsock.c): a probe leaves by its NIC through sendmsg()'s
// PKTINFO, and carries its own IP header (IP_HDRINCL, IPV6_HDRINCL) so the
// source is the test address even when the NIC holds data addresses or several
// link-local addresses: the kernel's own choice need not be it. Every pending
// reply is read in one recvmmsg(), each with the NIC it arrived on (PKTINFO)
// and the kernel's arrival stamp, and the matched ones go to the engine as one
// batch. A reply counts only for the NIC it arrived on: its identifier must be
// that NIC's and its nonce ours (here); its sequence and source are checked by
// the engine. Replies on NICs that are not probed are dropped unread.

import { capabilityHint } from '../capabilityHint.js';
import { randomBytes } from 'node:crypto';
import type { Family, ProbeMethod } from '../../config/types.js';
import type { ProbeKind, ProbeReply } from '../../core/types.js';
import { nsToMs } from '../../daemon/clock.js';
import type { IgnoredReason } from '../../metrics/eventMetrics.js';
import { ipToText, textToIp } from '../netlink/convert.js';
import {
  encodeEchoRequest,
  ipv4Header,
  ipv6Header,
  parseEchoReply,
  probeIdentifier,
  refillEchoRequest,
} from './packet.js';
import { ProbeSocket, SLOT_BYTES, type ReceivedBatch } from './probeSocket.js';
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
  ifname: string;
  ifindex: number;
  family: Family;
  id: number;
  /** a built probe per target, refilled for each send (no allocation per probe) */
  templates: Map<string, ProbeTemplate>;
}

interface ProbeTemplate {
  source: string;
  kind: ProbeKind;
  packet: Buffer;
  icmpOffset: number;
  destination: Buffer;
}

/** Targets come and go (multicast discovery, route changes): rebuild rather than grow without bound. */
const MAX_TEMPLATES = 64;

function ipv4Text(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

export class IcmpProber {
  private readonly endpoints = new Map<string, Endpoint>();
  /** per family: the endpoints by the index of their NIC, for replies */
  private readonly byIndex = { 4: new Map<number, Endpoint>(), 6: new Map<number, Endpoint>() };
  private readonly sockets = new Map<Family, ProbeSocket>();
  /** one nonce for the process: a forger who knows a NIC's identifier cannot know it */
  private readonly nonce = randomBytes(8);
  private replyHandler: (replies: ProbeReply[]) => void = () => {};
  private ignoredHandler: (reason: IgnoredReason) => void = () => {};
  private sendErrorHandler: (p: ProbeRequest, failure: SendFailure) => void = () => {};

  /**
   * Read every reply already waiting in the sockets now, instead of at the event
   * loop's next poll (they reach the onReplies handler before this returns).
   */
  readPending(): void {
    for (const s of this.sockets.values()) s.readPending();
  }

  /** Replies arrive in batches: every reply one read found, in arrival order. */
  onReplies(cb: (replies: ProbeReply[]) => void): void {
    this.replyHandler = cb;
  }
  onIgnored(cb: (reason: IgnoredReason) => void): void {
    this.ignoredHandler = cb;
  }
  /** sendmsg() failed (a firewall rule, no route, no buffer space): called after send() returned. */
  onSendError(cb: (p: ProbeRequest, failure: SendFailure) => void): void {
    this.sendErrorHandler = cb;
  }

  /** Probe an interface in a family (idempotent). Throws with a clear message without CAP_NET_RAW. */
  open(ifname: string, ifindex: number, family: Family): void {
    const key = `${ifname}/${family}`;
    const known = this.endpoints.get(key);
    if (known && known.ifindex === ifindex) return;
    if (known) this.close(ifname, family); // the NIC was re-created under the same name
    this.socket(family, ifname);
    const ep: Endpoint = { ifname, ifindex, family, id: probeIdentifier(process.pid, ifindex), templates: new Map() };
    this.endpoints.set(key, ep);
    this.byIndex[family].set(ifindex, ep);
  }

  close(ifname: string, family: Family): void {
    const key = `${ifname}/${family}`;
    const ep = this.endpoints.get(key);
    if (!ep) return;
    this.endpoints.delete(key);
    if (this.byIndex[family].get(ep.ifindex) === ep) this.byIndex[family].delete(ep.ifindex);
    if (this.byIndex[family].size === 0) {
      this.sockets.get(family)?.close();
      this.sockets.delete(family);
    }
  }

  closeAll(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    this.endpoints.clear();
    this.byIndex[4].clear();
    this.byIndex[6].clear();
  }

  /** Send a probe; false when its interface is not open. Send errors arrive through onSendError. */
  send(p: ProbeRequest): boolean {
    const ep = this.endpoints.get(`${p.ifname}/${p.family}`);
    const socket = this.sockets.get(p.family);
    if (!ep || !socket) return false;
    const t = this.template(ep, p);
    // the RTT starts right before sendmsg(), as ping's does; the kernel copies the packet
    refillEchoRequest(p.family, t.packet, t.icmpOffset, p.seq, process.hrtime.bigint());
    const errno = socket.send(t.packet, t.destination, ep.ifindex);
    if (errno !== 0) {
      // reported after send() returns: the engine that asked for the probe may still be busy
      const failure = sendFailure(errno);
      queueMicrotask(() => this.sendErrorHandler(p, failure));
    }
    return true;
  }

  private socket(family: Family, ifname: string): ProbeSocket {
    let socket = this.sockets.get(family);
    if (socket) return socket;
    try {
      socket = new ProbeSocket(
        family,
        (b) => this.receive(family, b),
        () => undefined, // a failed read (ENOMEM under pressure) is retried at the next wake-up
      );
    } catch (err) {
      throw new Error(
        `cannot open the raw ICMP${family === 6 ? 'v6' : ''} probe socket (for ${ifname}): ${(err as Error).message}` +
          (family === 6 ? ' (IPV6_HDRINCL needs Linux 4.5 or later)' : '') +
          capabilityHint((err as Error).message),
      );
    }
    this.sockets.set(family, socket);
    return socket;
  }

  private template(ep: Endpoint, p: ProbeRequest): ProbeTemplate {
    const cached = ep.templates.get(p.target);
    if (cached && cached.source === p.source && cached.kind === p.kind) return cached;
    const multicast = p.kind === 'multi';
    const echo = encodeEchoRequest(p.family, { id: ep.id, seq: 0, sentAtNs: 0n, kind: p.kind, nonce: this.nonce });
    // in.mpathd sends with TTL 1; ipmpd keeps 1 for all-hosts discovery (link-local by nature)
    // and uses 64 for unicast so a target behind a router on the same wire still answers
    const ttl = multicast ? 1 : 64;
    const header =
      p.family === 4
        ? ipv4Header(p.source, p.target, ttl, echo.length)
        : ipv6Header(p.source, p.target, ttl, echo.length);
    const packet = Buffer.concat([header, echo]);
    const t: ProbeTemplate = {
      source: p.source,
      kind: p.kind,
      packet,
      icmpOffset: packet.length - echo.length,
      destination: textToIp(p.target.split('%')[0]!, p.family),
    };
    if (ep.templates.size >= MAX_TEMPLATES) ep.templates.clear();
    ep.templates.set(p.target, t);
    return t;
  }

  private receive(family: Family, b: ReceivedBatch): void {
    const seenAt = nsToMs(process.hrtime.bigint());
    const endpoints = this.byIndex[family];
    const replies: ProbeReply[] = [];
    for (let i = 0; i < b.count; i++) {
      const ep = endpoints.get(b.meta[3 * i + 1]!);
      if (!ep) continue; // a NIC that is not probed: a socket bound to each NIC never saw these
      const at = i * SLOT_BYTES;
      const parsed = parseEchoReply(family, b.packets.subarray(at, at + b.meta[3 * i]!));
      if (!parsed.ok) {
        if (parsed.reason !== 'not_echo_reply') this.ignoredHandler('malformed');
        continue;
      }
      if (parsed.id !== ep.id || !parsed.nonce.equals(this.nonce)) {
        this.ignoredHandler('foreign_identifier');
        continue;
      }
      const sentAt = nsToMs(parsed.sentAtNs);
      const stamped = b.meta[3 * i + 2]!;
      replies.push({
        ifname: ep.ifname,
        family,
        source: family === 4 ? ipv4Text(b.sources, 16 * i) : ipToText(b.sources.subarray(16 * i, 16 * i + 16), 6)!,
        seq: parsed.seq,
        kind: parsed.kind,
        sentAt,
        // the kernel's stamp, unless it is not between the send and now (a clock step)
        receivedAt: stamped >= sentAt && stamped <= seenAt ? stamped : seenAt,
      });
    }
    if (replies.length > 0) this.replyHandler(replies);
  }
}
