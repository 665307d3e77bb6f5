// Assembles the Linux adapters the daemon needs: rtnetlink for links,
// addresses and routes; raw ICMP sockets per group member; announcements.

import type { DaemonConfig, Family } from '../config/types.js';
import type { Adapters } from '../daemon/daemon.js';
import { LinuxAnnouncer } from './announce/announcer.js';
import { IcmpProber } from './icmp/prober.js';
import { Rtnl, type RtnlWarn } from './netlink/rtnl.js';

export async function openLinuxAdapters(config: DaemonConfig, warn?: RtnlWarn): Promise<Adapters> {
  const rtnl = await Rtnl.open({ followRouteProtocols: config.followRouteProtocols, ...(warn ? { warn } : {}) });
  const prober = new IcmpProber();
  const membersOf = (c: DaemonConfig) => c.groups.flatMap((g) => g.interfaces.map((i) => ({ name: i.name, families: [...new Set<Family>(i.testAddresses.map((t) => t.family))] })));
  let members = membersOf(config);

  // sockets follow the interfaces: opened when one appears (or is renamed back), closed when it goes
  const syncSockets = () => {
    for (const m of members) {
      const link = rtnl.links().find((l) => l.name === m.name);
      for (const family of m.families) {
        if (link) prober.open(m.name, link.index, family);
        else prober.close(m.name, family);
      }
    }
  };
  syncSockets();
  rtnl.onChange(syncSockets);

  return {
    kernel: rtnl,
    view: rtnl,
    announcer: new LinuxAnnouncer(rtnl),
    onKernelChange: (cb) => rtnl.onChange(cb),
    probes: {
      send: (p) => prober.send(p),
      onReply: (cb) => prober.onReply(cb),
      onIgnored: (cb) => prober.onIgnored(cb),
      onSendError: (cb) => prober.onSendError(cb),
    },
    async ensureTestAddresses(cfg) {
      const added: string[] = [];
      for (const g of cfg.groups) {
        for (const i of g.interfaces) {
          for (const t of i.testAddresses) {
            const present = rtnl.addresses().some((a) => a.device === i.name && a.cidr.address === t.address);
            if (present || !rtnl.links().some((l) => l.name === i.name)) continue;
            // no prefix route: the data subnet route is ipmpd's, and must follow the data address
            await rtnl.addAddress(i.name, t, { nodad: t.family === 6, noprefixroute: true });
            added.push(`${t.address}/${t.prefixLength} on ${i.name}`);
          }
        }
      }
      // only when something was added: a refresh (links and addresses) notifies every listener, this one's caller too
      if (added.length > 0) await rtnl.refresh();
      return added;
    },
    async reconfigure(cfg) {
      const next = membersOf(cfg);
      for (const m of members) for (const f of m.families) if (!next.some((n) => n.name === m.name && n.families.includes(f))) prober.close(m.name, f);
      members = next;
      syncSockets();
      rtnl.setFollowRouteProtocols(cfg.followRouteProtocols);
    },
    async close() {
      prober.closeAll();
      rtnl.close();
    },
  };
}
