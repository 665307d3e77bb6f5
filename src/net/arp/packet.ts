// ARP probes and replies (RFC 826, RFC 5227): the 28-byte ARP packet of
// Ethernet/IPv4; the kernel adds the Ethernet header (native/arpprobe.c).

import { isIPv4 } from 'node:net';

export const ARP_PACKET_LENGTH = 28;
const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;
const OP_REQUEST = 1;
const OP_REPLY = 2;

function ipv4Bytes(address: string): number[] {
  if (!isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
  return address.split('.').map(Number);
}

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{1,2}$/i.test(p)))
    throw new Error(`not a MAC address: ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/**
 * An ARP probe (RFC 5227): a request for `target` from our MAC with sender
 * address 0.0.0.0, so that no neighbour learns or changes an entry from it,
 * and the owner of `target` answers with a reply to our MAC.
 */
export function encodeArpProbe(senderMac: Buffer, target: string): Buffer {
  const p = Buffer.alloc(ARP_PACKET_LENGTH);
  p.writeUInt16BE(HTYPE_ETHERNET, 0);
  p.writeUInt16BE(PTYPE_IPV4, 2);
  p[4] = 6;
  p[5] = 4;
  p.writeUInt16BE(OP_REQUEST, 6);
  senderMac.copy(p, 8);
  // sender protocol address 14..17 stays 0.0.0.0; target hardware address 18..23 stays zero
  Buffer.from(ipv4Bytes(target)).copy(p, 24);
  return p;
}

export type ArpReply = { ok: true; senderIp: string; senderMac: string } | { ok: false; reason: string };

/** An Ethernet/IPv4 ARP reply, or why it is not one. */
export function parseArpReply(p: Buffer): ArpReply {
  if (p.length < ARP_PACKET_LENGTH) return { ok: false, reason: 'short' };
  if (p.readUInt16BE(0) !== HTYPE_ETHERNET || p.readUInt16BE(2) !== PTYPE_IPV4 || p[4] !== 6 || p[5] !== 4)
    return { ok: false, reason: 'not_ethernet_ipv4' };
  if (p.readUInt16BE(6) !== OP_REPLY) return { ok: false, reason: 'not_a_reply' };
  const senderMac = [...p.subarray(8, 14)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return { ok: true, senderIp: [...p.subarray(14, 18)].join('.'), senderMac };
}
