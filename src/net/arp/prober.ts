// ARP probing (probe_method: arp): one AF_PACKET socket per member NIC
// (native/arpprobe.c) sends RFC 5227 probes - requests from 0.0.0.0 - and
// receives only the ARP replies that NIC got for its own MAC; each is matched
// to a probe of that NIC by its sender address (matcher.ts). Its RTT runs from
// just before sendto() to the kernel's receive stamp.

import { capabilityHint } from '../capabilityHint.js';
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
  /** where the next discovery request goes on in the neighbour table */
  discoveryCursor: number;
}

/** Targets come and go: rebuild rather than grow without bound. */
const MAX_PACKETS = 64;
/** Neighbours probed per discovery request (in.mpathd keeps at most five hosts). */
const DISCOVERY_BATCH = 8;

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
    const next: Omit<Endpoint, 'handle'> = {
      ifname,
      ifindex,
      mac,
      packets: new Map(),
      replies: new ArpReplyMatcher(),
      discoveryCursor: 0,
    };
    try {
      handle = loadArpProbeAddon().open(
        ifindex,
        macBytes(mac),
        (packet, at) => this.receive(next, packet, at),
        () => undefined, // a read error: the next probe's reply (or its loss) tells the engine
      );
    } catch (err) {
      throw new Error(
        `cannot open an ARP probe socket for ${ifname}: ${(err as Error).message}${capabilityHint((err as Error).message)}`,
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

  /** Send a probe, or discovery probes to known neighbours; false when the NIC has no socket. */
  send(p: ProbeRequest): boolean {
    const ep = this.endpoints.get(p.ifname);
    if (!ep) return false;
    if (p.kind === 'multi') {
      this.discover(ep, p);
      return true;
    }
    const at = loadArpProbeAddon().send(ep.handle, this.probePacket(ep, p.target));
    if (at < 0) {
      const errno = getSystemErrorName(at);
      // reported after send() returns: the engine that asked for the probe may still be busy
      queueMicrotask(() => this.sendErrorHandler(p, { errno, message: `sendto(AF_PACKET): ${errno}` }));
      return true;
    }
    ep.replies.sent(p.target, { seq: p.seq, kind: p.kind, sentAt: at });
    return true;
  }

  /**
   * Look for hosts: ARP has no all-hosts address, so probe the hosts the
   * kernel's neighbour table knows on the ARP-probing NICs, a few per request
   * (the table may be long), and report those that answer as 'multi' replies.
   * An entry alone proves nothing: a dead host's entry can stay for hours.
   */
  private discover(ep: Endpoint, p: ProbeRequest): void {
    const known = this.neighbours().filter((n) => this.endpoints.has(n.device));
    const count = Math.min(DISCOVERY_BATCH, known.length);
    for (let i = 0; i < count; i++) {
      const n = known[(ep.discoveryCursor + i) % known.length]!;
      const at = loadArpProbeAddon().send(ep.handle, this.probePacket(ep, n.address));
      if (at >= 0) ep.replies.sent(n.address, { seq: p.seq, kind: 'multi', sentAt: at });
    }
    ep.discoveryCursor = known.length === 0 ? 0 : (ep.discoveryCursor + count) % known.length;
  }

  private probePacket(ep: Endpoint, target: string): Buffer {
    let packet = ep.packets.get(target);
    if (!packet) {
      if (ep.packets.size >= MAX_PACKETS) ep.packets.clear();
      packet = encodeArpProbe(macBytes(ep.mac), target);
      ep.packets.set(target, packet);
    }
    return packet;
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
