// rtnetlink messages <-> the daemon's plain kernel records.

import type { AddressMessage, LinkMessage, RouteMessage } from 'netlink/dist/rt/structs.js';
import type { Cidr, Family } from '../../config/types.js';
import { canonicalText } from '../../core/addressMath.js';
import type { KernelAddress, KernelLink } from '../../daemon/ports.js';
import type { KernelRoute } from '../../core/route.js';

const AF_INET = 2;
const AF_INET6 = 10;

function familyOf(af: number | undefined): Family | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
}
export function afOf(family: Family): number {
  return family === 4 ? AF_INET : AF_INET6;
}

export function ipToText(buf: Buffer | undefined, family: Family): string | undefined {
  if (!buf) return undefined;
  if (family === 4) return [...buf.subarray(0, 4)].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(i).toString(16));
  return canonicalText(groups.join(':'));
}

export function textToIp(text: string, family: Family): Buffer {
  if (family === 4) return Buffer.from(text.split('.').map(Number));
  const [head = '', tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return buf;
}

export function toLink(m: LinkMessage): KernelLink | undefined {
  if (m.data.index === undefined || !m.attrs.ifname) return undefined;
  const mac =
    m.attrs.address && m.attrs.address.length === 6
      ? [...m.attrs.address].map((b) => b.toString(16).padStart(2, '0')).join(':')
      : undefined;
  return {
    name: m.attrs.ifname,
    index: m.data.index,
    mac,
    adminUp: m.data.flags?.up === true,
    // LOWER_UP is the carrier; RUNNING also needs the operstate the kernel derives from it
    carrier: m.data.flags?.lowerUp === true,
  };
}

export function toAddress(m: AddressMessage, nameOf: (index: number) => string | undefined): KernelAddress | undefined {
  const family = familyOf(m.data.family);
  const device = m.data.index !== undefined ? nameOf(m.data.index) : undefined;
  if (!family || !device) return undefined;
  const address = ipToText(m.attrs.local ?? m.attrs.address, family);
  if (!address) return undefined;
  const flags = { ...m.data.flags, ...m.attrs.flags };
  return {
    device,
    cidr: { address, prefixLength: m.data.prefixlen ?? (family === 4 ? 32 : 128), family },
    secondary: flags.secondary === true,
    noprefixroute: flags.noprefixroute === true,
  };
}

export function toRoute(m: RouteMessage, nameOf: (index: number) => string | undefined): KernelRoute | undefined {
  const family = familyOf(m.data.family);
  if (!family) return undefined;
  const prefixLength = m.data.dstLen ?? 0;
  return {
    family,
    destination: prefixLength === 0 ? undefined : ipToText(m.attrs.dst, family),
    prefixLength,
    gateway: ipToText(m.attrs.gateway, family),
    device: m.attrs.oif !== undefined ? nameOf(m.attrs.oif) : undefined,
    prefsrc: ipToText(m.attrs.prefsrc, family),
    metric: m.attrs.priority,
    table: m.attrs.table ?? m.data.table,
    protocol: typeof m.data.protocol === 'string' ? m.data.protocol.toLowerCase() : String(m.data.protocol),
    scope: typeof m.data.scope === 'string' ? m.data.scope.toLowerCase() : String(m.data.scope),
    type: typeof m.data.type === 'string' ? m.data.type.toLowerCase() : String(m.data.type),
    ...routeExtras(m),
  };
}

/** The parts of a route a move must keep that ipmpd itself does not read. */
export interface RouteExtras {
  tos?: number;
  metrics?: RouteMessage['attrs']['metrics'];
  pref?: Buffer;
  flow?: number;
}

function routeExtras(m: RouteMessage): { extras?: RouteExtras } {
  const extras: RouteExtras = {};
  if (m.data.tos) extras.tos = m.data.tos;
  if (m.attrs.metrics) extras.metrics = m.attrs.metrics;
  if (m.attrs.pref) extras.pref = Buffer.from(m.attrs.pref); // a copy: the original pins the whole datagram
  if (m.attrs.flow !== undefined) extras.flow = m.attrs.flow;
  return Object.keys(extras).length > 0 ? { extras } : {};
}

export function cidrText(c: Cidr): string {
  return `${c.address}/${c.prefixLength}`;
}
