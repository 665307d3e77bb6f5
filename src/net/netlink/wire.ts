// Netlink framing, read by hand where it is hot: a routing table of a million
// routes, or thousands of route changes a second, must not be turned into
// objects attribute by attribute (bench/README.md: "routes").

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
export const NLM_F_REPLACE = 0x100;
const NLM_F_DUMP = 0x300;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
const RTM_GETROUTE = 26;

const NLMSG_HDRLEN = 16;

export interface WireMessage {
  type: number;
  flags: number;
  seq: number;
  /** The payload, a view into the datagram (copy what you keep). */
  data: Buffer;
}

/** The netlink messages of one datagram; stops at a malformed length instead of throwing. */
export function* messagesIn(datagram: Buffer): Generator<WireMessage> {
  let at = 0;
  while (at + NLMSG_HDRLEN <= datagram.length) {
    const len = datagram.readUInt32LE(at);
    if (len < NLMSG_HDRLEN || at + len > datagram.length) return;
    yield {
      type: datagram.readUInt16LE(at + 4),
      flags: datagram.readUInt16LE(at + 6),
      seq: datagram.readUInt32LE(at + 8),
      data: datagram.subarray(at + NLMSG_HDRLEN, at + len),
    };
    at += align4(len);
  }
}

/** Calls `visit(type, start, end)` for each rtattr from `offset`; a malformed attribute ends the walk. */
export function forEachAttribute(
  buf: Buffer,
  offset: number,
  visit: (type: number, start: number, end: number) => void,
): void {
  let at = offset;
  while (at + 4 <= buf.length) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > buf.length) return;
    visit(buf.readUInt16LE(at + 2) & 0x3fff, at + 4, at + len); // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
    at += align4(len);
  }
}

/** A dump request for every route of one address family (rtmsg with only the family set). */
export function routeDumpRequest(family: number, seq: number): Buffer {
  const msg = Buffer.alloc(NLMSG_HDRLEN + 12);
  msg.writeUInt32LE(msg.length, 0);
  msg.writeUInt16LE(RTM_GETROUTE, 4);
  msg.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  msg.writeUInt32LE(seq, 8);
  msg.writeUInt8(family, NLMSG_HDRLEN);
  return msg;
}

/** The errno of an NLMSG_ERROR payload (0 is an acknowledgement). */
export function errorOf(data: Buffer): number {
  return data.length >= 4 ? -data.readInt32LE(0) : 0;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
