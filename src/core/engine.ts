// The in.mpathd engine: pure, driven by the caller's clock and events.
// Inputs: links, routes, local addresses, where data addresses are, probe
// replies, admin requests, and the passing of time. Outputs (takeOutputs):
// probes to send, addresses to move, and events to log and count.

import type { DaemonConfig, Family } from '../config/types.js';
import type { EngineContext, EngineSettings } from './context.js';
import { checkForRepair, linkDown } from './failure.js';
import { Group, Phyint, ProbeInstance } from './model.js';
import { placeAddresses } from './placement.js';
import { handleReply, nextDeadline, runPhyintTimers, startTimer, stopTimer } from './prober.js';
import type { RouteInfo } from './routeTargets.js';
import { applyRoutes, applyStaticTargets } from './targetUpkeep.js';
import { activateAnother, refreshGroupState, setStatus, transitionToRunning } from './transitions.js';
import type { EngineOutput, LinkReport, ProbeReply } from './types.js';
import { buildSnapshot, type EngineSnapshot } from './snapshot.js';

export interface EngineOptions {
  config: DaemonConfig;
  now: number;
  /** Uniform in [0, 1); inject a seeded one for reproducible tests. */
  random?: () => number;
}

export type AdminResult = { ok: true } | { ok: false; error: string };

export class Engine {
  readonly groups: Group[] = [];
  private readonly phyints = new Map<string, Phyint>();
  private outputs: EngineOutput[] = [];
  private routes: RouteInfo[] = [];
  private readonly localAddresses = new Set<string>();
  private readonly ctx: EngineContext;

  constructor(options: EngineOptions) {
    const { config } = options;
    const settings: EngineSettings = { failback: config.failback, onAllTargetsLost: config.onAllTargetsLost };
    this.ctx = {
      now: options.now,
      random: options.random ?? Math.random,
      settings,
      ownAddresses: this.localAddresses,
      emit: (o) => this.outputs.push(o),
    };
    for (const gc of config.groups) {
      const group = new Group(gc.name, config.failureDetectionTimeMs, gc.probeTargets);
      for (const ic of gc.interfaces) {
        const pi = new Phyint(ic.name, group, ic.standby, options.now);
        for (const family of [4, 6] as Family[]) {
          const test = ic.testAddresses.find((t) => t.family === family);
          if (!test) continue;
          pi.instances.push(new ProbeInstance(pi, family, test, options.now, (inst, slot) => this.onSlotChange(inst, slot)));
          this.localAddresses.add(test.address);
        }
        group.members.push(pi);
        this.phyints.set(ic.name, pi);
      }
      for (const da of gc.dataAddresses) {
        group.addresses.push({ address: da.address, home: da.preferredInterface, pinned: da.preferredInterface !== undefined, holder: undefined, moveInFlight: false });
        this.localAddresses.add(da.address.address);
      }
      this.groups.push(group);
    }
  }

  private onSlotChange(inst: ProbeInstance, slot: { status: string; target?: { address: string; counters: { timeouts: number } } | undefined; seq: number }): void {
    if (slot.status !== 'lost' || !slot.target) return;
    slot.target.counters.timeouts++;
    const pi = inst.phyint;
    this.ctx.emit({ kind: 'probe_lost', group: pi.group.name, ifname: pi.name, family: inst.family, target: slot.target.address, seq: slot.seq });
  }

  private at(now: number): EngineContext {
    this.ctx.now = now;
    return this.ctx;
  }

  /**
   * First look at the host: where the data addresses are (so a restart does
   * not move them), the links, and the routes.
   */
  start(now: number, host: { links: LinkReport[]; routes: RouteInfo[]; localAddresses?: string[]; addressHolders: ReadonlyMap<string, string[]> }): void {
    const ctx = this.at(now);
    for (const a of host.localAddresses ?? []) this.localAddresses.add(a);
    for (const group of this.groups) {
      for (const addr of group.addresses) {
        const on = (host.addressHolders.get(addr.address.address) ?? []).filter((n) => group.member(n));
        addr.holder = on[0];
        if (addr.home === undefined) addr.home = on[0];
        for (const extra of on.slice(1)) ctx.emit({ kind: 'remove_address', group: group.name, address: addr.address, from: extra });
      }
    }
    // non-standby members first, so standbys find the group at capacity
    const ordered = [...host.links].sort((a, b) => Number(this.phyints.get(a.ifname)?.standby ?? 0) - Number(this.phyints.get(b.ifname)?.standby ?? 0));
    this.reportLinks(now, ordered);
    for (const pi of this.phyints.values()) if (pi.status === 'init') this.reportLinks(now, [{ ifname: pi.name, present: false, up: false }]);
    this.reportRoutes(now, host.routes);
    for (const group of this.groups) {
      group.placing = true;
      group.failbackTo.clear(); // first start is not a failback
      placeAddresses(group, ctx);
    }
  }

  reportLinks(now: number, reports: readonly LinkReport[]): void {
    const ctx = this.at(now);
    // first record what the kernel says of every link, so that deciding about one
    // interface already sees its peers' news (in.mpathd reads the flags directly)
    for (const r of reports) {
      const pi = this.phyints.get(r.ifname);
      if (pi) pi.kernelLinkUp = r.present && r.up;
    }
    for (const r of reports) {
      const pi = this.phyints.get(r.ifname);
      if (pi) this.applyLink(pi, r, ctx);
    }
    this.checkDuplicateMacs(ctx);
  }

  private applyLink(pi: Phyint, r: LinkReport, ctx: EngineContext): void {
    const group = pi.group;
    const up = r.present && r.up;
    if (r.mac !== undefined) pi.mac = r.mac;
    if (pi.status === 'init') {
      pi.present = r.present;
      pi.linkUp = up;
      if (up) {
        transitionToRunning(pi, ctx);
        for (const inst of pi.instances) startTimer(inst, ctx);
      } else {
        pi.failedFlag = true;
        pi.failureCause = 'link';
        setStatus(pi, 'failed', ctx);
        ctx.emit({ kind: 'link_down', group: group.name, ifname: pi.name });
        refreshGroupState(group, ctx);
      }
      return;
    }
    if (r.present !== pi.present) {
      ctx.emit({ kind: r.present ? 'interface_appeared' : 'interface_vanished', group: group.name, ifname: pi.name });
      pi.present = r.present;
      if (!r.present) {
        // the kernel took its addresses with it
        for (const a of group.addresses) if (a.holder === pi.name && !a.moveInFlight) a.holder = undefined;
      }
    }
    if (up === pi.linkUp) {
      refreshGroupState(group, ctx);
      return;
    }
    pi.linkUp = up;
    if (!up) {
      ctx.emit({ kind: 'link_down', group: group.name, ifname: pi.name });
      for (const inst of pi.instances) stopTimer(inst);
      linkDown(pi, ctx);
      refreshGroupState(group, ctx);
    } else {
      ctx.emit({ kind: 'link_up', group: group.name, ifname: pi.name });
      for (const inst of pi.instances) if (inst.probeEnabled) startTimer(inst, ctx);
      checkForRepair(pi, ctx);
      pi.linkUpTimes[pi.linkUpIndex] = ctx.now;
      pi.linkUpIndex = (pi.linkUpIndex + 1) % pi.linkUpTimes.length;
      refreshGroupState(group, ctx);
    }
  }

  /** A member whose MAC duplicates another's is offlined until it is unique (ipmpstat flag h). */
  private checkDuplicateMacs(ctx: EngineContext): void {
    for (const group of this.groups) {
      const seen = new Map<string, Phyint>();
      for (const pi of group.members) {
        if (!pi.mac || !pi.present) continue;
        const first = seen.get(pi.mac);
        const duplicate = first !== undefined && first !== pi;
        if (!first) seen.set(pi.mac, pi);
        if (duplicate && !pi.duplicateMac) {
          pi.duplicateMac = true;
          ctx.emit({ kind: 'duplicate_mac', group: group.name, ifname: pi.name, mac: pi.mac, offlined: true });
          refreshGroupState(group, ctx);
        } else if (!duplicate && pi.duplicateMac) {
          pi.duplicateMac = false;
          ctx.emit({ kind: 'duplicate_mac', group: group.name, ifname: pi.name, mac: pi.mac, offlined: false });
          refreshGroupState(group, ctx);
        }
      }
    }
  }

  reportRoutes(now: number, routes: readonly RouteInfo[]): void {
    const ctx = this.at(now);
    this.routes = [...routes];
    for (const group of this.groups) {
      for (const pi of group.members) {
        for (const inst of pi.instances) {
          if (group.staticTargets.length > 0) applyStaticTargets(inst, group.staticTargets, ctx);
          else applyRoutes(inst, this.routes, ctx);
        }
      }
    }
  }

  reportLocalAddresses(now: number, addresses: readonly string[]): void {
    this.at(now);
    for (const a of addresses) this.localAddresses.add(a);
  }

  reportReply(now: number, reply: ProbeReply): void {
    const ctx = this.at(now);
    const inst = this.phyints.get(reply.ifname)?.instance(reply.family);
    if (!inst) {
      ctx.emit({ kind: 'reply_ignored', ifname: reply.ifname, reason: 'unknown_interface' });
      return;
    }
    handleReply(inst, reply, ctx);
  }

  /** The adapter could not send a probe (it still counts as sent: a hung NIC shows as loss). */
  reportSendError(now: number, ifname: string, family: Family, target: string): void {
    this.at(now);
    const t = this.phyints.get(ifname)?.instance(family)?.targets.find(target);
    if (t) t.counters.sendErrors++;
  }

  /**
   * Where the data addresses really are (a full snapshot of every configured
   * data address). Corrects beliefs, removes second copies, re-places.
   */
  observeAddresses(now: number, holders: ReadonlyMap<string, string[]>): void {
    const ctx = this.at(now);
    for (const group of this.groups) {
      for (const addr of group.addresses) {
        if (addr.moveInFlight) continue;
        const on = (holders.get(addr.address.address) ?? []).filter((n) => group.member(n));
        if (on.length === 0) {
          addr.holder = undefined;
          continue;
        }
        const keep = on.find((n) => n === addr.holder && group.member(n)!.active) ?? on.find((n) => group.member(n)!.active) ?? on[0]!;
        addr.holder = keep;
        for (const extra of on) if (extra !== keep) ctx.emit({ kind: 'remove_address', group: group.name, address: addr.address, from: extra });
      }
      placeAddresses(group, ctx);
    }
  }

  moveCompleted(now: number, address: string): void {
    this.at(now);
    const addr = this.findAddress(address);
    if (addr) addr.moveInFlight = false;
  }

  /** The executor failed; `actualHolders` is where the address is now. */
  moveFailed(now: number, address: string, actualHolders: string[]): void {
    const ctx = this.at(now);
    const found = this.findAddressWithGroup(address);
    if (!found) return;
    const [group, addr] = found;
    addr.moveInFlight = false;
    addr.holder = actualHolders.find((n) => group.member(n));
    // retried on the next tick, not at once: a persistent error must not spin
    void ctx;
  }

  private findAddress(address: string) {
    return this.findAddressWithGroup(address)?.[1];
  }
  private findAddressWithGroup(address: string) {
    for (const g of this.groups) for (const a of g.addresses) if (a.address.address === address) return [g, a] as const;
    return undefined;
  }

  /** if_mpadm -d: refused when no other usable interface would remain. */
  offline(now: number, ifname: string): AdminResult {
    const ctx = this.at(now);
    const pi = this.phyints.get(ifname);
    if (!pi) return { ok: false, error: `${ifname} is not in any group` };
    if (pi.offline) return { ok: false, error: `${ifname} is already offline` };
    const group = pi.group;
    const others = group.members.filter((m) => m !== pi && (group.failed ? !m.offline : m.usable));
    if (others.length < 1) return { ok: false, error: `cannot offline ${ifname}: no other functioning interfaces in group ${group.name}` };
    const wasActive = !pi.inactive;
    pi.offline = true;
    pi.inactive = false;
    for (const inst of pi.instances) stopTimer(inst);
    setStatus(pi, 'offline', ctx);
    if (wasActive) activateAnother(pi);
    ctx.emit({ kind: 'offline', group: group.name, ifname });
    refreshGroupState(group, ctx);
    return { ok: true };
  }

  /** if_mpadm -r. */
  online(now: number, ifname: string): AdminResult {
    const ctx = this.at(now);
    const pi = this.phyints.get(ifname);
    if (!pi) return { ok: false, error: `${ifname} is not in any group` };
    if (!pi.offline) return { ok: false, error: `${ifname} is not offline` };
    ctx.emit({ kind: 'online', group: pi.group.name, ifname });
    for (const inst of pi.instances) {
      inst.ring.clear();
      if (pi.linkUp) startTimer(inst, ctx);
    }
    pi.joinedAt = now;
    pi.noTestAddressReported = false;
    if (pi.failedFlag || !pi.linkUp) {
      pi.offline = false;
      pi.failedFlag = true;
      setStatus(pi, 'failed', ctx);
      refreshGroupState(pi.group, ctx);
    } else {
      transitionToRunning(pi, ctx);
    }
    return { ok: true };
  }

  /** When the engine next needs advance() (ms, on the caller's clock). */
  nextDeadline(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const pi of this.phyints.values()) {
      t = Math.min(t, nextDeadline(pi), pi.noTestAddressDueAt());
    }
    for (const g of this.groups) if (g.addresses.some((a) => !a.moveInFlight && (a.holder === undefined || !g.member(a.holder)?.active))) t = Math.min(t, this.ctx.now + 1000);
    return t;
  }

  advance(now: number): void {
    const ctx = this.at(now);
    for (const pi of this.phyints.values()) {
      runPhyintTimers(pi, ctx);
      if (now >= pi.noTestAddressDueAt()) {
        pi.noTestAddressReported = true;
        ctx.emit({ kind: 'probing_disabled', group: pi.group.name, ifname: pi.name, reason: 'no_test_address' });
      }
    }
    for (const g of this.groups) placeAddresses(g, ctx);
  }

  takeOutputs(): EngineOutput[] {
    const out = this.outputs;
    this.outputs = [];
    return out;
  }

  snapshot(): EngineSnapshot {
    return buildSnapshot(this.groups, this.ctx.now);
  }
}
