// The native probe socket (native/icmpsock.c): one raw ICMP or ICMPv6 socket
// for every probed NIC of a family. It reads every pending reply in one
// recvmmsg() into buffers kept here, with the NIC it arrived on and the
// kernel's arrival stamp, and sends with sendmsg() naming the NIC.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Family } from '../../config/types.js';

declare const handleBrand: unique symbol;
type Handle = { readonly [handleBrand]: true };

interface IcmpSockAddon {
  open(
    family: Family,
    rcvbufBytes: number,
    packets: Buffer,
    meta: Float64Array,
    sources: Buffer,
    onBatch: (count: number) => void,
    onError: (errno: number) => void,
  ): Handle;
  send(handle: Handle, packet: Buffer, destination: Buffer, ifindex: number): number;
  close(handle: Handle): void;
  /** one read now: the count of replies, 0 if none was pending, or -errno */
  read(handle: Handle): number;
}

let addon: IcmpSockAddon | undefined;
function load(): IcmpSockAddon {
  if (addon) return addon; // (called per probe: nothing else on this path)
  const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..'); // dist/src/net/icmp -> repo root
  addon = createRequire(import.meta.url)(join(root, 'build/Release/icmpsock.node')) as IcmpSockAddon;
  return addon;
}

/** Size of a receive slot in the addon (an echo reply is far smaller). */
export const SLOT_BYTES = 2048;

/** One read: `count` replies, the i-th at packets[i * SLOT_BYTES], meta and source at i. */
export interface ReceivedBatch {
  count: number;
  packets: Buffer;
  /** per reply: [length, arrival ifindex, kernel arrival time in monotonic ms] */
  meta: Float64Array;
  /** per reply: 16 bytes, the source address (IPv4 in the first 4) */
  sources: Buffer;
}

export class ProbeSocket {
  private readonly handle: Handle;
  private readonly batch: ReceivedBatch;
  private readonly addon = load();

  /** Throws (with the errno's text) when the socket cannot be opened, e.g. without CAP_NET_RAW. */
  constructor(
    readonly family: Family,
    private readonly onBatch: (b: ReceivedBatch) => void,
    private readonly onError: (errno: number) => void,
    { slots = 64, rcvbufBytes = 4 << 20 } = {},
  ) {
    this.batch = {
      count: 0,
      packets: Buffer.alloc(slots * SLOT_BYTES),
      meta: new Float64Array(slots * 3),
      sources: Buffer.alloc(slots * 16),
    };
    const b = this.batch;
    this.handle = this.addon.open(
      family,
      rcvbufBytes,
      b.packets,
      b.meta,
      b.sources,
      (count) => {
        b.count = count;
        onBatch(b);
      },
      onError,
    );
  }

  /** sendmsg() out of `ifindex`: 0, or the errno. The packet is copied before this returns. */
  send(packet: Buffer, destination: Buffer, ifindex: number): number {
    return this.addon.send(this.handle, packet, destination, ifindex);
  }

  /**
   * Read what is pending now, without waiting for the event loop's poll: each batch
   * goes to onBatch before this returns.
   */
  readPending(): void {
    for (;;) {
      const n = this.addon.read(this.handle);
      if (n < 0) return this.onError(-n);
      if (n === 0) return;
      this.batch.count = n;
      this.onBatch(this.batch);
      if (n < this.batch.meta.length / 3) return; // the buffers were not full: nothing more waits
    }
  }

  close(): void {
    this.addon.close(this.handle);
  }
}
