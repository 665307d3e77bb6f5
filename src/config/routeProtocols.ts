// Route origins (rtnetlink's rtm_protocol), by the names iproute2 prints in
// `ip route` (`proto bgp`) and /etc/iproute2/rt_protos. A route's origin says
// who owns it: a routing daemon reacts to a link itself, so ipmpd leaves its
// routes alone and moves only those the administrator or the boot
// configuration installed.

const NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'unspec'],
  [1, 'redirect'],
  [2, 'kernel'],
  [3, 'boot'],
  [4, 'static'],
  [8, 'gated'],
  [9, 'ra'],
  [10, 'mrt'],
  [11, 'zebra'],
  [12, 'bird'],
  [13, 'dnrouted'],
  [14, 'xorp'],
  [15, 'ntk'],
  [16, 'dhcp'],
  [17, 'mrouted'],
  [18, 'keepalived'],
  [42, 'babel'],
  [99, 'openr'],
  [186, 'bgp'],
  [187, 'isis'],
  [188, 'ospf'],
  [189, 'rip'],
  [192, 'eigrp'],
]);
const NUMBERS: ReadonlyMap<string, number> = new Map([...NAMES].map(([n, name]) => [name, n]));

/** Routes of these origins follow a data address by default: nobody else moves them. */
export const DEFAULT_FOLLOW_PROTOCOLS: readonly string[] = [
  'unspec',
  'redirect',
  'kernel',
  'boot',
  'static',
  'ra',
  'dhcp',
];

/** The canonical name of an origin given as a name or a number (0-255); undefined if neither. */
export function canonicalProtocol(value: string | number): string | undefined {
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
    return NAMES.get(n) ?? String(n);
  }
  const name = value.toLowerCase();
  return NUMBERS.has(name) ? name : undefined;
}

/** The rtm_protocol number of a canonical origin name (or its decimal text). */
export function protocolNumber(name: string | undefined): number {
  if (name === undefined) return 4; // static: what `ip route add` writes
  return NUMBERS.get(name) ?? (/^\d+$/.test(name) ? Number(name) : 4);
}

export function knownProtocolNames(): string[] {
  return [...NUMBERS.keys()];
}
