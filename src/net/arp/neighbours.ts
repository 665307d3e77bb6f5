// Hosts the kernel's IPv4 neighbour table knows: what an ARP-probing group
// can find on its link without multicast (an echo to 224.0.0.1 needs a source
// address, and Linux hosts ignore it by default). /proc/net/arp lists every
// entry with its device; complete ones (ATF_COM) are hosts that answered.

import { readFileSync } from 'node:fs';

const ATF_COM = 0x2;

export interface Neighbour {
  address: string;
  device: string;
}

/** The complete entries of /proc/net/arp's text. */
export function parseProcNetArp(text: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const flags = parseInt(f[2]!, 16);
    if (!Number.isFinite(flags) || (flags & ATF_COM) === 0 || f[3] === '00:00:00:00:00:00') continue;
    out.push({ address: f[0]!, device: f[5]! });
  }
  return out;
}

export function readNeighbours(path = '/proc/net/arp'): Neighbour[] {
  try {
    return parseProcNetArp(readFileSync(path, 'utf8'));
  } catch {
    return []; // no table (no IPv4): nothing to find
  }
}
