// The host's addresses as the adapter keeps them: changed one at a time (a
// notification, an acknowledged write) in constant time, listed as one array
// built only when asked after a change, and indexed by address, so a failover
// of a thousand addresses does not scan every address for each one.

import type { KernelAddress } from '../../daemon/ports.js';

const keyOf = (a: KernelAddress) => `${a.device} ${a.cidr.family} ${a.cidr.address}/${a.cidr.prefixLength}`;

export class AddressSet {
  private readonly byKey = new Map<string, KernelAddress>();
  /** address -> device -> how many entries (one per prefix length) */
  private readonly holders = new Map<string, Map<string, number>>();
  private listed: KernelAddress[] | undefined = [];

  list(): KernelAddress[] {
    this.listed ??= [...this.byKey.values()];
    return this.listed;
  }

  /** The devices holding `address` (with any prefix length). */
  holdersOf(address: string): string[] {
    return [...(this.holders.get(address)?.keys() ?? [])];
  }

  has(a: KernelAddress): boolean {
    return this.byKey.has(keyOf(a));
  }

  add(a: KernelAddress): void {
    const key = keyOf(a);
    const before = this.byKey.get(key);
    this.byKey.set(key, a);
    this.listed = undefined;
    if (before) return;
    let devices = this.holders.get(a.cidr.address);
    if (!devices) this.holders.set(a.cidr.address, (devices = new Map()));
    devices.set(a.device, (devices.get(a.device) ?? 0) + 1);
  }

  remove(a: KernelAddress): void {
    if (!this.byKey.delete(keyOf(a))) return;
    this.listed = undefined;
    const devices = this.holders.get(a.cidr.address);
    const n = (devices?.get(a.device) ?? 1) - 1;
    if (n > 0) devices!.set(a.device, n);
    else devices?.delete(a.device);
    if (devices?.size === 0) this.holders.delete(a.cidr.address);
  }

  /** Forgets every address of a device (it is gone), or moves them to its new name. */
  forDevice(device: string, renameTo?: string): void {
    const moved = [...this.byKey.values()].filter((a) => a.device === device);
    for (const a of moved) this.remove(a);
    if (renameTo !== undefined) for (const a of moved) this.add({ ...a, device: renameTo });
  }

  anyOn(device: string, family: 4 | 6): boolean {
    for (const a of this.byKey.values()) if (a.device === device && a.cidr.family === family) return true;
    return false;
  }

  replaceAll(list: readonly KernelAddress[]): void {
    this.byKey.clear();
    this.holders.clear();
    for (const a of list) this.add(a);
    this.listed = undefined;
  }
}
