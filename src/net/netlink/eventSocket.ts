// rtnetlink notifications through native/nlevents.c: the netlink package's own
// reader aborts the process when the kernel reports lost notifications
// (ENOBUFS), which a burst of route changes causes. Here a lost notification is
// an onError(ENOBUFS) call, and the adapter re-reads what it missed.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface NlEventsAddon {
  open(
    groupsMask: number,
    rcvbufBytes: number,
    onDatagram: (datagram: Buffer) => void,
    onError: (errno: number) => void,
  ): object;
  receiveBufferBytes(handle: object): number;
  close(handle: object): void;
}

let addon: NlEventsAddon | undefined;

function load(): NlEventsAddon {
  if (addon) return addon;
  const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..'); // dist/src/net/netlink -> repo root
  try {
    addon = createRequire(import.meta.url)(join(root, 'build/Release/nlevents.node')) as NlEventsAddon;
  } catch (err) {
    throw new Error(`the rtnetlink listener addon is not built (run npm ci): ${(err as Error).message}`);
  }
  return addon;
}

export const ENOBUFS = 105;

export class NetlinkEventSocket {
  private handle: object | undefined;

  /** Listens to the rtnetlink multicast groups (RTNLGRP_* numbers, all ≤ 32). */
  constructor(
    groups: readonly number[],
    receiveBufferBytes: number,
    onDatagram: (datagram: Buffer) => void,
    onError: (errno: number) => void,
  ) {
    const mask = groups.reduce((m, g) => (m | (1 << (g - 1))) >>> 0, 0);
    this.handle = load().open(mask, receiveBufferBytes, onDatagram, onError);
  }

  /** What the kernel granted (twice the requested size, capped by net.core.rmem_max without CAP_NET_ADMIN). */
  receiveBufferBytes(): number {
    return this.handle ? load().receiveBufferBytes(this.handle) : 0;
  }

  close(): void {
    if (this.handle) load().close(this.handle);
    this.handle = undefined;
  }
}
