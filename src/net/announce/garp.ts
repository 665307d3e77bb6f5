// Gratuitous ARP through the small native addon (native/garp.c): ARP is not
// IP, so raw-socket cannot send it, and iputils arping cannot burst or count.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

interface GarpAddon {
  sendGratuitousArp(ifindex: number, mac: Buffer, ipv4: Buffer, count: number): number;
}

let addon: GarpAddon | undefined;

function load(): GarpAddon {
  if (addon) return addon;
  const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..'); // dist/src/net/announce -> repo root
  const require = createRequire(import.meta.url);
  try {
    addon = require(join(root, 'build/Release/garp.node')) as GarpAddon;
  } catch (err) {
    throw new Error(`the gratuitous-ARP addon is not built (run npm ci): ${(err as Error).message}`);
  }
  return addon;
}

export function macToBuffer(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6) throw new Error(`not a MAC address: ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** Send `count` gratuitous ARP requests for `ipv4` out of interface `ifindex`; returns how many left. */
export function sendGratuitousArp(ifindex: number, mac: string, ipv4: string, count: number): number {
  return load().sendGratuitousArp(ifindex, macToBuffer(mac), Buffer.from(ipv4.split('.').map(Number)), count);
}
