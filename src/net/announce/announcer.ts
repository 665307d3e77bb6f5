// Tell the neighbours where a moved address lives now: gratuitous ARP for
// IPv4, unsolicited NA for IPv6, counting the packets that actually left.

import type { Cidr } from '../../config/types.js';
import type { Announcer, KernelView } from '../../daemon/ports.js';
import { sendGratuitousArp } from './garp.js';
import { sendUnsolicitedNa } from './unsolicitedNa.js';

export class LinuxAnnouncer implements Announcer {
  constructor(private readonly view: KernelView) {}

  async announce(device: string, cidr: Cidr, count: number, intervalMs: number): Promise<{ sent: number }> {
    const link = this.view.links().find((l) => l.name === device);
    if (!link?.mac) throw new Error(`cannot announce ${cidr.address}: no MAC address known for ${device}`);
    if (cidr.family === 6) return { sent: await sendUnsolicitedNa(device, link.mac, cidr.address, count, intervalMs) };
    if (intervalMs <= 0) return { sent: sendGratuitousArp(link.index, link.mac, cidr.address, count) };
    let sent = 0;
    for (let i = 0; i < count; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
      sent += sendGratuitousArp(link.index, link.mac, cidr.address, 1);
    }
    return { sent };
  }
}
