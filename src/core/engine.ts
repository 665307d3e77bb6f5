// The in.mpathd engine: pure, driven by the caller's clock and events.
// Inputs: links, routes, local addresses, where data addresses are, probe
// replies, admin requests, and the passing of time. Outputs (takeOutputs):
// probes to send, addresses to move, and events to log and count.

import type { DaemonConfig, Family, GroupConfig, InterfaceConfig } from '../config/types.js';
import { ANONYMOUS_GROUP, sameAnonymousMember, type AnonymousMember } from './anonymous.js';
import { canCarryInterface, carryAddress, carryGroupState, sameCidr } from './carryOver.js';
import type { EngineContext, EngineSettings } from './context.js';
import { checkForRepair, linkDown } from './failure.js';
import { Group, Phyint, ProbeInstance, type DataAddress } from './model.js';
import type { ProbeSlot } from './probeRing.js';
import { probeSourcesOf } from './probeSources.js';
import type { Target } from './targets.js';
import { placeAddresses } from './placement.js';
import { handleReply, nextDeadline, runPhyintTimers, startTimer, stopTimer } from './prober.js';
import { applyRoutes, applyStaticTargets } from './targetUpkeep.js';
import { activateAnother, refreshGroupState, transitionToRunning } from './transitions.js';
import type { EngineOutput, GroupState, LinkReport, ProbeReply } from './types.js';
import { buildSnapshot, type EngineSnapshot } from './snapshot.js';
import type { KernelRoute } from './route.js';

export interface EngineOptions {
  config: DaemonConfig;
  now: number;
  /** Uniform in [0, 1); inject a seeded one for reproducible tests. */
  random?: () => number;
  /**
   * The running engine, on a reload: whatever the new configuration leaves
   * unchanged carries over from it (see carryOver.ts). It hands its members
   * over, so it must not be used afterwards.
   */
  previous?: Engine;
  /**
   * NICs in no group to watch as in.mpathd's anonymous group (only with
   * track_interfaces_only_with_groups: false); the shell finds them. Kept
   * current with setAnonymousMembers().
   */
  anonymous?: readonly AnonymousMember[];
}

export type AdminResult = { ok: true } | { ok: false; error: string };

export class Engine {
  readonly groups: Group[] = [];
  private readonly phyints = new Map<string, Phyint>();
  private outputs: EngineOutput[] = [];
  private routes: KernelRoute[] = [];
  private readonly localAddresses = new Set<string>();
  private readonly ctx: EngineContext;
  /** Groups that existed before a reload, with the state they had then (start() reports the difference). */
  private readonly carriedGroups = new Map<Group, GroupState>();
  /** Members carried over from the previous engine, state and all. */
  readonly carriedInterfaces = new Set<string>();
  /** Observe-only NICs; listed in `groups` while it has members. */
  private readonly anonymous: Group;

  constructor(options: EngineOptions) {
    const { config, previous } = options;
    const settings: EngineSettings = { failback: config.failback, onAllTargetsLost: config.onAllTargetsLost };
    this.ctx = {
      now: options.now,
      random: options.random ?? previous?.ctx.random ?? Math.random,
      settings,
      ownAddresses: this.localAddresses,
      emit: (o) => this.outputs.push(o),
    };
    const onSlotChange = (inst: ProbeInstance, slot: ProbeSlot<Target>) => this.onSlotChange(inst, slot);
    for (const gc of config.groups) {
      const group = new Group(gc.name, config.failureDetectionTimeMs, gc.probeTargets, gc.probeMethod);
      const before = previous?.groups.find((g) => g.name === gc.name);
      if (before) {
        carryGroupState(before, group);
        this.carriedGroups.set(group, before.state);
        group.state = before.state;
      }
      for (const ic of gc.interfaces) {
        const running = before?.member(ic.name);
        const pi =
          running && canCarryInterface(running, gc, ic)
            ? this.takeOver(running, group, onSlotChange)
            : this.newPhyint(ic, gc, group, options.now, onSlotChange);
        group.members.push(pi);
        this.phyints.set(ic.name, pi);
      }
      for (const da of gc.dataAddresses) {
        const address: DataAddress = {
          address: da.address,
          home: da.preferredInterface,
          pinned: da.preferredInterface !== undefined,
          holder: undefined,
          moveInFlight: false,
        };
        if (before)
          carryAddress(
            before.addresses.find(
              (a) => sameCidr(a.address, da.address) && (a.home === da.preferredInterface || !a.pinned),
            ),
            address,
          );
        group.addresses.push(address);
        this.localAddresses.add(da.address.address);
      }
      this.groups.push(group);
    }
    this.anonymous = new Group(ANONYMOUS_GROUP, config.failureDetectionTimeMs, [], 'icmp', true);
    if (previous) carryGroupState(previous.anonymous, this.anonymous);
    for (const m of options.anonymous ?? []) {
      if (this.phyints.has(m.name)) continue; // a configured member is never anonymous
      const running = previous?.anonymous.member(m.name);
      const carry = running && sameAnonymousMember(anonymousOf(running), m);
      const pi = carry
        ? this.takeOver(running, this.anonymous, onSlotChange)
        : this.newPhyint(anonymousConfig(m), ANONYMOUS_PROBING, this.anonymous, options.now, onSlotChange);
      this.anonymous.members.push(pi);
      this.phyints.set(m.name, pi);
    }
    if (this.anonymous.members.length > 0) this.groups.push(this.anonymous);
    if (previous) {
      this.routes = previous.routes;
      this.dropLeftBehind(previous);
    }
  }

  /**
   * The NICs in no group changed (one came up, got or lost an address, went
   * away). New ones start like a new member (their link comes with the next
   * reportLinks); ones gone, or now probing from another address, leave with
   * their targets; the others go on untouched.
   */
  setAnonymousMembers(now: number, members: readonly AnonymousMember[]): void {
    const ctx = this.at(now);
    const group = this.anonymous;
    for (const pi of [...group.members]) {
      const wanted = members.find((m) => m.name === pi.name);
      if (wanted && sameAnonymousMember(anonymousOf(pi), wanted)) continue;
      for (const inst of pi.instances) {
        stopTimer(inst);
        for (const t of inst.targets.all)
          ctx.emit({
            kind: 'target_removed',
            group: group.name,
            ifname: pi.name,
            family: inst.family,
            target: t.address,
            source: t.source,
          });
      }
      group.members.splice(group.members.indexOf(pi), 1);
      this.phyints.delete(pi.name);
    }
    const onSlotChange = (inst: ProbeInstance, slot: ProbeSlot<Target>) => this.onSlotChange(inst, slot);
    for (const m of members) {
      if (this.phyints.has(m.name)) continue;
      const pi = this.newPhyint(anonymousConfig(m), ANONYMOUS_PROBING, group, now, onSlotChange);
      for (const inst of pi.instances) applyRoutes(inst, this.routes, ctx);
      group.members.push(pi);
      this.phyints.set(m.name, pi);
    }
    const listed = this.groups.indexOf(group);
    if (group.members.length === 0 && listed >= 0) this.groups.splice(listed, 1);
    if (group.members.length > 0 && listed < 0) {
      group.placing = true;
      this.groups.push(group);
    }
  }

  /** The anonymous members, as the shell described them (it asks so it can keep their probe sockets open). */
  anonymousMembers(): AnonymousMember[] {
    return this.anonymous.members.map(anonymousOf);
  }

  /** Members of the previous engine that did not carry over: their targets go (and their per-target series with them). */
  private dropLeftBehind(previous: Engine): void {
    for (const [name, pi] of previous.phyints) {
      if (this.phyints.get(name) === pi) continue;
      for (const inst of pi.instances) {
        for (const t of inst.targets.all)
          this.ctx.emit({
            kind: 'target_removed',
            group: pi.group.name,
            ifname: name,
            family: inst.family,
            target: t.address,
            source: t.source,
          });
      }
    }
  }

  private newPhyint(
    ic: InterfaceConfig,
    gc: ProbingConfig,
    group: Group,
    now: number,
    onSlotChange: ProbeInstance['onSlotChange'],
  ): Phyint {
    const pi = new Phyint(ic.name, group, ic.standby, now);
    for (const source of probeSourcesOf(ic, gc)) {
      pi.instances.push(new ProbeInstance(pi, source, now, onSlotChange));
      if (source.testAddress) this.localAddresses.add(source.testAddress.address);
    }
    return pi;
  }

  /** A running member goes on in this engine: same object, new group, lost probes reported here. */
  private takeOver(pi: Phyint, group: Group, onSlotChange: ProbeInstance['onSlotChange']): Phyint {
    pi.group = group;
    for (const inst of pi.instances) {
      inst.onSlotChange = onSlotChange;
      if (inst.testAddress) this.localAddresses.add(inst.testAddress.address);
    }
    this.carriedInterfaces.add(pi.name);
    return pi;
  }

  private onSlotChange(
    inst: ProbeInstance,
    slot: { status: string; target?: { address: string; counters: { timeouts: number } } | undefined; seq: number },
  ): void {
    if (slot.status !== 'lost' || !slot.target) return;
    slot.target.counters.timeouts++;
    const pi = inst.phyint;
    this.ctx.emit({
      kind: 'probe_lost',
      group: pi.group.name,
      ifname: pi.name,
      family: inst.family,
      method: inst.method,
      target: slot.target.address,
      seq: slot.seq,
    });
  }

  private at(now: number): EngineContext {
    this.ctx.now = now;
    return this.ctx;
  }

  /**
   * First look at the host: where the data addresses are (so a restart does
   * not move them), the links, and the routes.
   */
  start(
    now: number,
    host: {
      links: LinkReport[];
      routes: KernelRoute[];
      localAddresses?: string[];
      addressHolders: ReadonlyMap<string, string[]>;
    },
  ): void {
    const ctx = this.at(now);
    for (const a of host.localAddresses ?? []) this.localAddresses.add(a);
    for (const group of this.groups) {
      for (const addr of group.addresses) {
        if (addr.moveInFlight) continue; // carried over a reload: its move reports back to this engine
        const on = (host.addressHolders.get(addr.address.address) ?? []).filter((n) => group.member(n));
        addr.holder = on[0];
        if (addr.home === undefined) addr.home = on[0];
        for (const extra of on.slice(1))
          ctx.emit({ kind: 'remove_address', group: group.name, address: addr.address, from: extra });
      }
    }
    // non-standby members first, so standbys find the group at capacity
    const ordered = [...host.links].sort(
      (a, b) => Number(this.phyints.get(a.ifname)?.standby ?? 0) - Number(this.phyints.get(b.ifname)?.standby ?? 0),
    );
    this.reportLinks(now, ordered);
    for (const pi of this.phyints.values())
      if (pi.status === 'init') this.reportLinks(now, [{ ifname: pi.name, present: false, up: false }]);
    this.reportRoutes(now, host.routes);
    for (const group of this.groups) {
      group.placing = true;
      const stateBefore = this.carriedGroups.get(group);
      if (stateBefore === undefined) {
        group.failbackTo.clear(); // first start is not a failback
        placeAddresses(group, ctx);
      } else {
        // a group that ran before the reload: report only a real change of state
        group.state = stateBefore;
        refreshGroupState(group, ctx);
      }
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
        pi.markFailed();
        pi.failureCause = 'link';
        pi.setStatus('failed', ctx.now);
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
      if (group.anonymous) continue; // bond members share their MAC, and nothing moves here anyway
      const seen = new Map<string, Phyint>();
      for (const pi of group.members) {
        if (!pi.mac || !pi.present) continue;
        const first = seen.get(pi.mac);
        const duplicate = first !== undefined && first !== pi;
        if (!first) seen.set(pi.mac, pi);
        if (pi.setDuplicateMac(duplicate)) {
          ctx.emit({ kind: 'duplicate_mac', group: group.name, ifname: pi.name, mac: pi.mac, offlined: duplicate });
          refreshGroupState(group, ctx);
        }
      }
    }
  }

  reportRoutes(now: number, routes: readonly KernelRoute[]): void {
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
        const keep =
          on.find((n) => n === addr.holder && group.member(n)!.active) ??
          on.find((n) => group.member(n)!.active) ??
          on[0]!;
        addr.holder = keep;
        for (const extra of on)
          if (extra !== keep)
            ctx.emit({ kind: 'remove_address', group: group.name, address: addr.address, from: extra });
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
    this.at(now);
    const found = this.findAddressWithGroup(address);
    if (!found) return;
    const [group, addr] = found;
    addr.moveInFlight = false;
    addr.holder = actualHolders.find((n) => group.member(n));
    // retried on the next tick, not at once: a persistent error must not spin
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
    if (group.anonymous) return { ok: false, error: `${ifname} is not in any group (it is only watched)` };
    const others = group.members.filter((m) => m !== pi && (group.failed ? !m.offline : m.usable));
    if (others.length < 1)
      return { ok: false, error: `cannot offline ${ifname}: no other functioning interfaces in group ${group.name}` };
    const wasActive = !pi.inactive;
    for (const inst of pi.instances) stopTimer(inst);
    pi.setStatus('offline', ctx.now);
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
      pi.markFailed();
      pi.setStatus('failed', ctx.now);
      refreshGroupState(pi.group, ctx);
    } else {
      transitionToRunning(pi, ctx);
    }
    return { ok: true };
  }

  /** The model's invariants that do not hold now, one line each (tests check this after every step). */
  brokenInvariants(): string[] {
    const broken: string[] = [];
    for (const g of [...this.groups, this.anonymous]) {
      const why = g.brokenInvariant();
      if (why) broken.push(`group ${g.name}: ${why}`);
    }
    for (const pi of this.phyints.values()) {
      const why = pi.brokenInvariant();
      if (why) broken.push(`${pi.name} (${pi.status}): ${why}`);
    }
    return broken;
  }

  /** When the engine next needs advance() (ms, on the caller's clock). */
  nextDeadline(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const pi of this.phyints.values()) {
      t = Math.min(t, nextDeadline(pi), pi.noTestAddressDueAt());
    }
    for (const g of this.groups)
      if (g.addresses.some((a) => !a.moveInFlight && (a.holder === undefined || !g.member(a.holder)?.active)))
        t = Math.min(t, this.ctx.now + 1000);
    return t;
  }

  /**
   * The latest phyint deadline in [from, to], or `from` if there is none: a caller that
   * wakes then serves every deadline of that span in one advance() (see daemon/driver.ts).
   */
  latestDeadlineWithin(from: number, to: number): number {
    let t = from;
    for (const pi of this.phyints.values()) {
      const d = Math.min(nextDeadline(pi), pi.noTestAddressDueAt());
      if (d > t && d <= to) t = d;
    }
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

type ProbingConfig = Pick<GroupConfig, 'probeMethod' | 'dataAddresses' | 'probeTargets'>;
/** The anonymous group probes with ICMP from addresses its NICs already have. */
const ANONYMOUS_PROBING: ProbingConfig = { probeMethod: 'icmp', dataAddresses: [], probeTargets: [] };

function anonymousConfig(m: AnonymousMember): InterfaceConfig {
  return { name: m.name, testAddresses: m.sources, standby: false };
}

function anonymousOf(pi: Phyint): AnonymousMember {
  return { name: pi.name, sources: pi.instances.flatMap((i) => (i.testAddress ? [i.testAddress] : [])) };
}
