// ICMP echo packets for probing, as in.mpathd builds them: identifier per
// interface, 16-bit sequence, payload = send time (ns, big-endian) + probe
// type. ipmpd adds an 8-byte random nonce so a reply with a guessed
// identifier cannot count as an answer. Parsing never throws.

import type { Family } from '../../config/types.js';
import type { ProbeKind } from '../../core/types.js';
import { textToIp } from '../netlink/convert.js';

const MTYPE: Record<ProbeKind, number> = { uni: 0x1234, multi: 0x5678, rtt: 0x9abc };
const KIND_OF = new Map<number, ProbeKind>(Object.entries(MTYPE).map(([k, v]) => [v, k as ProbeKind]));

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const ICMP6_ECHO_REQUEST = 128;
const ICMP6_ECHO_REPLY = 129;
const HEADER = 8;
const PAYLOAD_LENGTH = 20;
const ECHO_LENGTH = HEADER + PAYLOAD_LENGTH;

export interface EchoFields {
  id: number;
  seq: number;
  sentAtNs: bigint;
  kind: ProbeKind;
  nonce: Buffer;
}

export type ParsedReply =
  | ({ ok: true; ttl?: number } & EchoFields)
  | { ok: false; reason: 'malformed' | 'not_echo_reply' | 'bad_checksum' | 'unknown_type' };

/** in.mpathd: ((pid & 0xFF) << 8) | (ifindex & 0xFF). */
export function probeIdentifier(pid: number, ifindex: number): number {
  return ((pid & 0xff) << 8) | (ifindex & 0xff);
}

/** Sum of the big-endian 16-bit words in [start, end), not yet folded. */
function wordSum(buf: Buffer, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i + 1 < end; i += 2) sum += buf.readUInt16BE(i);
  if ((end - start) % 2 === 1) sum += buf[end - 1]! << 8;
  return sum;
}

function folded(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function internetChecksum(buf: Buffer, start = 0, end = buf.length): number {
  return folded(wordSum(buf, start, end));
}

const IPV6_HEADER = 40;
const NEXT_HEADER_ICMPV6 = 58;

/**
 * The ICMPv6 checksum of the message at `offset` behind the IPv6 header at the
 * start of `packet` (RFC 8200 8.1: the pseudo-header is source, destination,
 * upper-layer length, next header), its own checksum field counted as zero.
 */
function icmpv6Checksum(packet: Buffer, offset = IPV6_HEADER): number {
  const length = packet.length - offset;
  const pseudo = wordSum(packet, 8, 40) + (length >>> 16) + (length & 0xffff) + NEXT_HEADER_ICMPV6;
  return folded(pseudo + wordSum(packet, offset, packet.length) - packet.readUInt16BE(offset + 2));
}

export function encodeEchoRequest(family: Family, f: EchoFields): Buffer {
  const buf = Buffer.alloc(ECHO_LENGTH);
  buf[0] = family === 4 ? ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST;
  buf.writeUInt16BE(f.id, 4);
  buf.writeUInt16BE(f.seq & 0xffff, 6);
  buf.writeBigUInt64BE(f.sentAtNs, 8);
  buf.writeUInt32BE(MTYPE[f.kind], 16);
  f.nonce.copy(buf, 20, 0, 8);
  // ICMPv6's covers a pseudo-header: see refillEchoRequest and icmpv6Checksum
  if (family === 4) buf.writeUInt16BE(internetChecksum(buf), 2);
  return buf;
}

/**
 * Ready a prebuilt echo request at `offset` (where its ICMP header starts) for its
 * next send: sequence number, send time, checksum. The identifier, probe type and
 * nonce stay as encoded. An ICMPv6 request with no IPv6 header before it (offset 0)
 * is left for the kernel to checksum; behind our own header the kernel does not.
 */
export function refillEchoRequest(family: Family, packet: Buffer, offset: number, seq: number, sentAtNs: bigint): void {
  packet.writeUInt16BE(seq & 0xffff, offset + 6);
  packet.writeBigUInt64BE(sentAtNs, offset + 8);
  if (family === 6) {
    if (offset === IPV6_HEADER) packet.writeUInt16BE(icmpv6Checksum(packet, offset), offset + 2);
    return;
  }
  packet.writeUInt16BE(0, offset + 2);
  packet.writeUInt16BE(internetChecksum(packet, offset, offset + ECHO_LENGTH), offset + 2);
}

/** Parse what a raw socket delivered: IPv4 with its IP header, IPv6 without. */
export function parseEchoReply(family: Family, packet: Buffer): ParsedReply {
  let icmp = packet;
  let ttl: number | undefined;
  if (family === 4) {
    if (packet.length < 20 || packet[0]! >> 4 !== 4) return { ok: false, reason: 'malformed' };
    const ihl = (packet[0]! & 0x0f) * 4;
    if (ihl < 20 || packet.length < ihl + HEADER) return { ok: false, reason: 'malformed' };
    ttl = packet[8];
    icmp = packet.subarray(ihl);
  }
  if (icmp.length < HEADER) return { ok: false, reason: 'malformed' };
  const type = icmp[0]!;
  if (type !== (family === 4 ? ICMP_ECHO_REPLY : ICMP6_ECHO_REPLY) || icmp[1] !== 0)
    return { ok: false, reason: 'not_echo_reply' };
  if (icmp.length < ECHO_LENGTH) return { ok: false, reason: 'malformed' };
  // raw IPv4 delivery happens before the kernel checks the ICMP checksum
  if (family === 4 && internetChecksum(icmp) !== 0) return { ok: false, reason: 'bad_checksum' };
  const kind = KIND_OF.get(icmp.readUInt32BE(16));
  if (!kind) return { ok: false, reason: 'unknown_type' };
  return {
    ok: true,
    id: icmp.readUInt16BE(4),
    seq: icmp.readUInt16BE(6),
    sentAtNs: icmp.readBigUInt64BE(8),
    kind,
    nonce: icmp.subarray(20, 28), // a view into the packet: compare it before the buffer is reused
    ttl,
  };
}

/** A minimal IPv4 header for IP_HDRINCL, so probes leave from the test address. */
export function ipv4Header(source: string, destination: string, ttl: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payloadLength, 2); // the kernel rewrites total length and checksum
  h[6] = 0x40; // don't fragment
  h[8] = ttl;
  h[9] = 1; // ICMP
  Buffer.from(source.split('.').map(Number)).copy(h, 12);
  Buffer.from(destination.split('.').map(Number)).copy(h, 16);
  return h;
}

/**
 * A fixed IPv6 header for IPV6_HDRINCL, so probes leave from the test address:
 * without it the kernel picks the source itself, and on a NIC with several
 * link-local addresses that need not be the configured one.
 */
export function ipv6Header(source: string, destination: string, hopLimit: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(IPV6_HEADER);
  h.writeUInt32BE(6 << 28, 0); // version 6, traffic class 0, flow label 0
  h.writeUInt16BE(payloadLength, 4); // the kernel takes it as written
  h[6] = NEXT_HEADER_ICMPV6;
  h[7] = hopLimit;
  textToIp(source.split('%')[0]!, 6).copy(h, 8);
  textToIp(destination.split('%')[0]!, 6).copy(h, 24);
  return h;
}
