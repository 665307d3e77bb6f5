// When a probe reply reached the host, as the kernel saw it (native/rxstamp.c):
// the RTT then excludes event-loop delay, as ping's does. raw-socket does not
// expose its file descriptor, so the prober learns it as the socket fd that
// appeared while it created the socket; the addon checks it really is a raw
// ICMP socket before using it. Without the addon or the fd, replies are timed
// when JavaScript sees them (a few tens of µs later).

import { readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface RxStampAddon {
  enable(fd: number): boolean;
  lastReceivedMs(fd: number): number;
}

let addon: RxStampAddon | null | undefined;

function load(): RxStampAddon | null {
  if (addon !== undefined) return addon;
  const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..'); // dist/src/net/icmp -> repo root
  try {
    addon = createRequire(import.meta.url)(join(root, 'build/Release/rxstamp.node')) as RxStampAddon;
  } catch {
    addon = null;
  }
  return addon;
}

/** The process's open socket file descriptors. */
export function socketFds(): Set<number> {
  const fds = new Set<number>();
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`).startsWith('socket:')) fds.add(Number(entry));
    } catch {
      // closed while we looked
    }
  }
  return fds;
}

/**
 * The raw ICMP socket opened since `before` was taken, with kernel stamping turned
 * on; undefined unless exactly one new socket fd is a raw ICMP socket.
 */
export function enableReceiveStamps(before: ReadonlySet<number>): number | undefined {
  const native = load();
  if (!native) return undefined;
  const fresh = [...socketFds()].filter((fd) => !before.has(fd));
  if (fresh.length !== 1) return undefined;
  return native.enable(fresh[0]!) ? fresh[0] : undefined;
}

/**
 * Arrival time (monotonic ms) of the packet just read from `fd`, if the kernel
 * has it and it lies between the send and the moment JavaScript saw the reply.
 */
export function kernelArrivalMs(fd: number, sentAtMs: number, seenAtMs: number): number | undefined {
  const at = addon?.lastReceivedMs(fd) ?? -1;
  return at >= sentAtMs && at <= seenAtMs ? at : undefined;
}
