// ARP probing (probe_method: arp): one AF_PACKET socket per member NIC
// (native/arpprobe.c) sends RFC 5227 probes - requests from 0.0.0.0 - and
// receives only the ARP replies that NIC got for its own MAC; each is matched
// to a probe of that NIC by its sender address (matcher.ts). Its RTT runs from
// just before sendto() to the kernel's receive stamp.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorName } from 'node:util';
import type { ProbeReply } from '../../core/types.js';
import type { IgnoredReason } from '../../metrics/eventMetrics.js';
import type { ProbeRequest } from '../icmp/prober.js';
import type { SendFailure } from '../icmp/sendErrors.js';
import { ArpReplyMatcher } from './matcher.js';
import { readNeighbours, type Neighbour } from './neighbours.js';
import { encodeArpProbe, macBytes, parseArpReply } from './packet.js';

export interface ArpProbeAddon {
  open(
    ifindex: number,
    mac: Buffer,
    onReply: (packet: Buffer, atMs: number) => void,
    onError: (errno: number) => void,
  ): object;
  /** Monotonic ms just before sendto(), or -errno; to: the Ethernet destination (default broadcast). */
  send(handle: object, packet: Buffer, to?: Buffer): number;
  close(handle: object): void;
}

let addon: ArpProbeAddon | undefined;

export function loadArpProbeAddon(): ArpProbeAddon {
  if (addon) return addon;
  const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..'); // dist/src/net/arp -> repo root
  try {
    addon = createRequire(import.meta.url)(join(root, 'build/Release/arpprobe.node')) as ArpProbeAddon;
  } catch (err) {
    throw new Error(`the ARP probe addon is not built (run npm ci): ${(err as Error).message}`);
  }
  return addon;
}

interface Endpoint {
  handle: object;
  ifname: string;
  ifindex: number;
  mac: string;
  /** a probe per target, built once (the request does not change between sends) */
  packets: Map<string, Buffer>;
  /** the probes waiting for a reply */
  replies: ArpReplyMatcher;
}

/** Targets come and go: rebuild rather than grow without bound. */
const MAX_PACKETS = 64;

export class ArpProber {
  private readonly endpoints = new Map<string, Endpoint>();
  private replyHandler: (r: ProbeReply) => void = () => {};
  private ignoredHandler: (reason: IgnoredReason) => void = () => {};
  private sendErrorHandler: (p: ProbeRequest, failure: SendFailure) => void = () => {};

  constructor(private readonly neighbours: () => Neighbour[] = readNeighbours) {}

  onReply(cb: (r: ProbeReply) => void): void {
    this.replyHandler = cb;
  }
  onIgnored(cb: (reason: IgnoredReason) => void): void {
    this.ignoredHandler = cb;
  }
  onSendError(cb: (p: ProbeRequest, failure: SendFailure) => void): void {
    this.sendErrorHandler = cb;
  }

  /** Open the NIC's socket (idempotent; reopened if the NIC's index or MAC changed). Throws without CAP_NET_RAW. */
  open(ifname: string, ifindex: number, mac: string): void {
    const ep = this.endpoints.get(ifname);
    if (ep && ep.ifindex === ifindex && ep.mac === mac) return;
    if (ep) this.close(ifname);
    let handle: object;
    const next: Omit<Endpoint, 'handle'> = { ifname, ifindex, mac, packets: new Map(), replies: new ArpReplyMatcher() };
    try {
      handle = loadArpProbeAddon().open(
        ifindex,
        macBytes(mac),
        (packet, at) => this.receive(next, packet, at),
        () => undefined, // a read error: the next probe's reply (or its loss) tells the engine
      );
    } catch (err) {
      throw new Error(
        `cannot open an ARP probe socket for ${ifname}: ${(err as Error).message} (ipmpd needs CAP_NET_RAW)`,
      );
    }
    this.endpoints.set(ifname, Object.assign(next, { handle }));
  }

  close(ifname: string): void {
    const ep = this.endpoints.get(ifname);
    if (ep) loadArpProbeAddon().close(ep.handle);
    this.endpoints.delete(ifname);
  }

  closeAll(): void {
    for (const name of [...this.endpoints.keys()]) this.close(name);
  }

  /** Send a probe, or answer a discovery request from the neighbour table; false when the NIC has no socket. */
  send(p: ProbeRequest): boolean {
    const ep = this.endpoints.get(p.ifname);
    if (!ep) return false;
    if (p.kind === 'multi') {
      this.discover(ep, p);
      return true;
    }
    let packet = ep.packets.get(p.target);
    if (!packet) {
      if (ep.packets.size >= MAX_PACKETS) ep.packets.clear();
      packet = encodeArpProbe(macBytes(ep.mac), p.target);
      ep.packets.set(p.target, packet);
    }
    const at = loadArpProbeAddon().send(ep.handle, packet);
    if (at < 0) {
      const errno = getSystemErrorName(at);
      // reported after send() returns: the engine that asked for the probe may still be busy
      queueMicrotask(() => this.sendErrorHandler(p, { errno, message: `sendto(AF_PACKET): ${errno}` }));
      return true;
    }
    ep.replies.sent(p.target, { seq: p.seq, kind: p.kind, sentAt: at });
    return true;
  }

  /** The hosts the neighbour table knows on the ARP-probing NICs, as answers to the discovery request. */
  private discover(ep: Endpoint, p: ProbeRequest): void {
    const found = this.neighbours().filter((n) => this.endpoints.has(n.device));
    queueMicrotask(() => {
      for (const n of found)
        this.replyHandler({
          ifname: ep.ifname,
          family: 4,
          source: n.address,
          seq: p.seq,
          kind: 'multi',
          sentAt: 0,
          receivedAt: 0,
        });
    });
  }

  private receive(ep: Omit<Endpoint, 'handle'>, packet: Buffer, receivedAt: number): void {
    const reply = parseArpReply(packet);
    if (!reply.ok) return this.ignoredHandler('malformed');
    const probe = ep.replies.match(reply.senderIp);
    if (!probe) return this.ignoredHandler('not_a_target'); // not probed from this NIC, or answered already
    this.replyHandler({
      ifname: ep.ifname,
      family: 4,
      source: reply.senderIp,
      seq: probe.seq,
      kind: probe.kind,
      sentAt: probe.sentAt,
      receivedAt,
    });
  }
}
