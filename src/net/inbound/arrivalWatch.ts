// The first inbound packet addressed to an address on one NIC, through the
// small native addon (native/arrival.c): an AF_PACKET socket whose BPF filter
// keeps only unicast packets for that NIC with that IP destination, so the
// process wakes for nothing else.

import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { addressToBigInt } from '../../core/addressMath.js';
import type { ArrivalWatcher, KernelView } from '../../daemon/ports.js';

interface ArrivalAddon {
  open(
    ifindex: number,
    address: Buffer,
    onArrival: (monotonicMs: number) => void,
    onError: (errno: number) => void,
  ): object;
  close(handle: object): void;
}

let addon: ArrivalAddon | undefined;

function load(): ArrivalAddon {
  if (addon) return addon;
  const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..'); // dist/src/net/inbound -> repo root
  const require = createRequire(import.meta.url);
  try {
    addon = require(join(root, 'build/Release/arrival.node')) as ArrivalAddon;
  } catch (err) {
    throw new Error(`the arrival-watch addon is not built (run npm ci): ${(err as Error).message}`);
  }
  return addon;
}

export interface ArrivalHandle {
  close(): void;
}

/** Network-order bytes of an IPv4 or IPv6 address. */
function addressBytes(address: string): Buffer {
  const length = isIPv4(address) ? 4 : isIPv6(address) ? 16 : 0;
  if (length === 0) throw new Error(`not an IP address: ${address}`);
  const hex = addressToBigInt(address)
    .toString(16)
    .padStart(length * 2, '0');
  return Buffer.from(hex, 'hex');
}

/**
 * Calls onArrival (with the monotonic time in ms at which the packet was read)
 * for inbound packets to `address` received by the NIC `ifindex` for itself,
 * until closed. Throws when the socket cannot be opened (no CAP_NET_RAW).
 */
function watchArrivals(
  ifindex: number,
  address: string,
  onArrival: (monotonicMs: number) => void,
  onError: (err: string) => void,
): ArrivalHandle {
  const a = load();
  const handle = a.open(ifindex, addressBytes(address), onArrival, (errno) => onError(getSystemErrorName(-errno)));
  let open = true;
  return {
    close() {
      if (open) a.close(handle);
      open = false;
    },
  };
}

export class LinuxArrivalWatcher implements ArrivalWatcher {
  constructor(private readonly view: KernelView) {}

  watch(
    device: string,
    address: string,
    onArrival: (monotonicMs: number) => void,
    onError: (err: string) => void,
  ): ArrivalHandle {
    const link = this.view.links().find((l) => l.name === device);
    if (!link) throw new Error(`cannot watch ${address}: no interface ${device}`);
    return watchArrivals(link.index, address, onArrival, onError);
  }
}
