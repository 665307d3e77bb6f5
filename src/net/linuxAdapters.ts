// Assembles the Linux adapters the daemon needs: rtnetlink for links,
// addresses and routes; the probe sockets (one raw ICMP socket per family for
// every member, an ARP socket per member of a probe_method: arp group); announcements.

import type { Cidr, DaemonConfig, Family } from '../config/types.js';
import { probeSourcesOf } from '../core/probeSources.js';
import type { Adapters } from '../daemon/daemon.js';
import { ArpProber } from './arp/prober.js';
import { LinuxAnnouncer } from './announce/announcer.js';
import { LinuxArrivalWatcher } from './inbound/arrivalWatch.js';
import { IcmpProber } from './icmp/prober.js';
import { Rtnl, type RtnlWarn } from './netlink/rtnl.js';

interface AddedAddress {
  device: string;
  cidr: Cidr;
}
const wantedBy = (cfg: DaemonConfig, a: AddedAddress) =>
  cfg.groups.some((g) =>
    g.interfaces.some((i) => i.name === a.device && i.testAddresses.some((t) => t.address === a.cidr.address)),
  );
const addedText = (a: AddedAddress) => `${a.cidr.address}/${a.cidr.prefixLength} on ${a.device}`;

export async function openLinuxAdapters(config: DaemonConfig, warn?: RtnlWarn): Promise<Adapters> {
  const rtnl = await Rtnl.open({ followRouteProtocols: config.followRouteProtocols, ...(warn ? { warn } : {}) });
  const prober = new IcmpProber();
  const arp = new ArpProber();
  // each member's ICMP families, and whether it probes with ARP
  const membersOf = (c: DaemonConfig) =>
    c.groups.flatMap((g) =>
      g.interfaces.map((i) => {
        const sources = probeSourcesOf(i, g);
        return {
          name: i.name,
          families: sources.filter((s) => s.method === 'icmp').map((s) => s.family),
          arp: sources.some((s) => s.method === 'arp'),
        };
      }),
    );
  let members = membersOf(config);
  const syncArpSockets = () => {
    const links = rtnl.links();
    for (const m of members) {
      const link = links.find((l) => l.name === m.name);
      if (m.arp && link?.mac) arp.open(m.name, link.index, link.mac);
      else arp.close(m.name);
    }
  };
  let running = config;
  /** NICs in no group that the daemon watches (its anonymous group). */
  let extra: Array<{ name: string; families: Family[] }> = [];

  // sockets follow the interfaces: opened when one appears (or is renamed back), closed when it goes
  const syncSockets = () => {
    for (const m of [...members, ...extra]) {
      const link = rtnl.links().find((l) => l.name === m.name);
      for (const family of m.families) {
        if (link) prober.open(m.name, link.index, family);
        else prober.close(m.name, family);
      }
    }
  };
  syncSockets();
  syncArpSockets();
  rtnl.onChange(syncSockets);
  rtnl.onChange(syncArpSockets);

  /** Adds the test addresses `cfg` wants and the host lacks, recording each one as soon as it is added. */
  const addMissingTestAddresses = async (cfg: DaemonConfig, added: AddedAddress[]): Promise<void> => {
    for (const g of cfg.groups) {
      for (const i of g.interfaces) {
        for (const t of i.testAddresses) {
          const present = rtnl.addresses().some((a) => a.device === i.name && a.cidr.address === t.address);
          if (present || !rtnl.links().some((l) => l.name === i.name)) continue;
          try {
            // no prefix route: the data subnet route is ipmpd's, and must follow the data address
            await rtnl.addAddress(i.name, t, { nodad: t.family === 6, noprefixroute: true });
          } catch (err) {
            const hint =
              t.family === 6 && /EACCES/.test((err as Error).message)
                ? ` (is IPv6 disabled on ${i.name}? see net.ipv6.conf.${i.name}.disable_ipv6)`
                : '';
            throw new Error(`test address: ${(err as Error).message}${hint}`);
          }
          added.push({ device: i.name, cidr: t });
        }
      }
    }
  };

  return {
    kernel: rtnl,
    view: rtnl,
    announcer: new LinuxAnnouncer(rtnl),
    arrivals: new LinuxArrivalWatcher(rtnl),
    onKernelChange: (cb) => rtnl.onChange(cb),
    probes: {
      send: (p) => (p.method === 'arp' ? arp.send(p) : prober.send(p)),
      readPending: () => prober.readPending(),
      onReplies: (cb) => {
        prober.onReplies(cb);
        arp.onReply((reply) => cb([reply]));
      },
      onIgnored: (cb) => {
        prober.onIgnored(cb);
        arp.onIgnored(cb);
      },
      onSendError: (cb) => {
        prober.onSendError(cb);
        arp.onSendError(cb);
      },
      keepOpen(next) {
        const wanted = (list: typeof extra, name: string, f: Family) =>
          list.some((m) => m.name === name && m.families.includes(f));
        for (const m of extra)
          for (const f of m.families)
            if (!wanted(next, m.name, f) && !wanted(members, m.name, f)) prober.close(m.name, f);
        extra = next;
        syncSockets();
      },
    },
    async ensureTestAddresses(cfg) {
      const added: AddedAddress[] = [];
      try {
        await addMissingTestAddresses(cfg, added);
      } finally {
        // only when something was added: a refresh notifies every listener, this one's caller too
        if (added.length > 0) await rtnl.refresh();
      }
      return added.map(addedText);
    },
    async prepare(cfg) {
      const added: AddedAddress[] = [];
      const next = membersOf(cfg);
      // an anonymous NIC that joins a group keeps its socket: a rollback must not close it
      const isMember = (name: string, family: Family) =>
        [...members, ...extra].some((m) => m.name === name && m.families.includes(family));
      const opened: Array<{ name: string; family: Family }> = [];
      const openedArp: string[] = [];
      const rollback = async () => {
        for (const o of opened.splice(0)) prober.close(o.name, o.family);
        for (const name of openedArp.splice(0)) arp.close(name);
        const failures: string[] = [];
        for (const a of added.splice(0).reverse()) {
          // the running configuration's own test address (restored meanwhile by the daemon) stays
          if (wantedBy(running, a)) continue;
          await rtnl.deleteAddress(a.device, a.cidr).catch((err: Error) => failures.push(err.message));
        }
        await rtnl.refresh();
        if (failures.length > 0) throw new Error(`could not undo the attempt: ${failures.join('; ')}`);
      };
      try {
        await addMissingTestAddresses(cfg, added);
        if (added.length > 0) await rtnl.refresh();
        // sockets for members new to this configuration; the running ones keep theirs
        for (const m of next) {
          const link = rtnl.links().find((l) => l.name === m.name);
          for (const family of m.families) {
            if (!link || isMember(m.name, family)) continue;
            prober.open(m.name, link.index, family);
            opened.push({ name: m.name, family });
          }
          if (m.arp && link?.mac && !members.some((r) => r.name === m.name && r.arp)) {
            arp.open(m.name, link.index, link.mac);
            openedArp.push(m.name);
          }
        }
      } catch (err) {
        await rollback().catch((undoErr: Error) => {
          throw new Error(`${(err as Error).message}; ${undoErr.message}`);
        });
        throw err;
      }
      return {
        added: added.map(addedText),
        commit() {
          const kept = [...next, ...extra];
          for (const m of members)
            for (const f of m.families)
              if (!kept.some((n) => n.name === m.name && n.families.includes(f))) prober.close(m.name, f);
          for (const m of members) if (m.arp && !next.some((n) => n.name === m.name && n.arp)) arp.close(m.name);
          members = next;
          running = cfg;
          syncSockets();
          syncArpSockets();
          rtnl.setFollowRouteProtocols(cfg.followRouteProtocols);
        },
        rollback,
      };
    },
    async close() {
      prober.closeAll();
      arp.closeAll();
      rtnl.close();
    },
  };
}
