// Route messages as the kernel writes them (struct rtmsg + rtattrs), for the
// decoder's and the route table's tests.

export interface RouteSpec {
  family?: 4 | 6;
  dst?: string;
  dstLen?: number;
  table?: number;
  protocol?: number;
  type?: number;
  tos?: number;
  gateway?: string;
  oif?: number;
  priority?: number;
  prefsrc?: string;
  nexthops?: Array<{ gateway?: string; oif: number }>;
  mtu?: number;
}

function ip(text: string, family: 4 | 6): Buffer {
  if (family === 4) return Buffer.from(text.split('.').map(Number));
  const [head = '', tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return b;
}

function attr(type: number, value: Buffer): Buffer {
  const len = 4 + value.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  value.copy(b, 4);
  return b;
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** The payload of an RTM_NEWROUTE / RTM_DELROUTE message. */
export function routeMessage(s: RouteSpec): Buffer {
  const family = s.family ?? 4;
  const table = s.table ?? 254;
  const head = Buffer.alloc(12);
  head.writeUInt8(family === 4 ? 2 : 10, 0);
  head.writeUInt8(s.dstLen ?? (s.dst ? (family === 4 ? 32 : 128) : 0), 1);
  head.writeUInt8(s.tos ?? 0, 3);
  head.writeUInt8(table > 255 ? 252 : table, 4);
  head.writeUInt8(s.protocol ?? 4, 5);
  head.writeUInt8(s.gateway ? 0 : 253, 6);
  head.writeUInt8(s.type ?? 1, 7);
  const attrs: Buffer[] = [attr(15, u32(table))];
  if (s.dst) attrs.push(attr(1, ip(s.dst, family)));
  if (s.priority !== undefined) attrs.push(attr(6, u32(s.priority)));
  if (s.prefsrc) attrs.push(attr(7, ip(s.prefsrc, family)));
  if (s.mtu !== undefined) attrs.push(attr(8 | 0x8000, attr(2, u32(s.mtu))));
  if (s.gateway) attrs.push(attr(5, ip(s.gateway, family)));
  if (s.oif !== undefined) attrs.push(attr(4, u32(s.oif)));
  if (s.nexthops) {
    const hops = s.nexthops.map((h) => {
      const inner = h.gateway ? attr(5, ip(h.gateway, family)) : Buffer.alloc(0);
      const b = Buffer.alloc(8);
      b.writeUInt16LE(8 + inner.length, 0);
      b.writeInt32LE(h.oif, 4);
      return Buffer.concat([b, inner]);
    });
    attrs.push(attr(9, Buffer.concat(hops)));
  }
  return Buffer.concat([head, ...attrs]);
}
