// The engine's state: groups, their member interfaces (in.mpathd "phyints")
// and each interface's per-family probing instance. The decisions live in the
// other core modules; the state changes go through the methods here, which
// keep the invariants below (docs/design.md tells the whole story).
//
// A member's state (in.mpathd pi_state):
//   init       configured, its link not yet seen
//   running    working: probes answered, or link up without probing
//   failed     link down, or NUM_PROBE_FAILS probes in a row lost
//   notargets  probing is on but no target answers yet; functioning unless IFF_FAILED
//   offline    taken out by the operator (if_mpadm -d)
// and its flags (in.mpathd interface flags):
//   IFF_FAILED    failedFlag: detected failed; kept across offline, so that
//                 online brings the member back failed instead of running
//   IFF_OFFLINE   offline: the same fact as the offline state, derived from it
//   IFF_INACTIVE  inactive: functioning but holding no data addresses
//                 (a standby, or a repaired member waiting for failback)
//   duplicateMac  kept out of use while its MAC equals another member's
//
// Invariants (Engine.brokenInvariants checks them; the simulator after every step):
//   1. offline  <=> state offline (one fact, not two)
//   2. state failed  => IFF_FAILED;  state running => not IFF_FAILED
//   3. IFF_INACTIVE  => neither IFF_FAILED nor offline
//   4. a group's effective FDT is never below the configured one
//   5. a group's probe interval is always probeIntervalFor(effective FDT)
//      (FDT = (NUM_PROBE_FAILS + 2) x interval): Group.setEffectiveFdt is
//      the only writer of either
// Derived, never stored: functioning (running, or notargets without
// IFF_FAILED), usable (functioning, present, online), active (usable, not
// inactive, no duplicate MAC): only active members hold data addresses.

import type { Cidr, Family, ProbeMethod } from '../config/types.js';
import { FAILURE_DETECTION_QP_MS, LINK_UP_PERMIN, probeIntervalFor, TESTADDR_CONF_TIME_MS } from './constants.js';
import { ProbeRing, type ProbeSlot } from './probeRing.js';
import { ARP_PROBE_SOURCE, type ProbeSource } from './probeSources.js';
import { Target, TargetList } from './targets.js';
import type { FailureCause, GroupState, InterfaceState, ProbeState } from './types.js';

/** in.mpathd pi_state. */
export type PhyintStatus = 'init' | 'running' | 'failed' | 'offline' | 'notargets';

export class ProbeInstance {
  readonly family: Family;
  /** ICMP echo from the test address, or ARP from 0.0.0.0 (no test address). */
  readonly method: ProbeMethod;
  readonly testAddress: Cidr | undefined;
  readonly targets = new TargetList();
  readonly ring: ProbeRing<Target>;
  /** Timer: next send time, strictly periodic base, failure-detection base. */
  nextSendAt = Number.POSITIVE_INFINITY;
  sendBase = 0;
  fdBase = 0;
  /** Lost probes are ignored until then (spanning-tree start-up). */
  quietUntil: number;

  constructor(
    readonly phyint: Phyint,
    source: ProbeSource,
    now: number,
    /** Who hears of lost probes: the engine that owns this instance (a reload hands it over). */
    public onSlotChange: (inst: ProbeInstance, slot: ProbeSlot<Target>) => void,
  ) {
    this.family = source.family;
    this.method = source.method;
    this.testAddress = source.testAddress;
    this.quietUntil = now + FAILURE_DETECTION_QP_MS;
    this.ring = new ProbeRing<Target>((slot) => this.onSlotChange(this, slot));
  }

  /** Something to probe from: a test address, or ARP, which needs none. */
  get hasSource(): boolean {
    return this.testAddress !== undefined || this.method === 'arp';
  }
  /** The probes' source address: the test address, or ARP's 0.0.0.0. */
  get sourceAddress(): string {
    return this.testAddress?.address ?? ARP_PROBE_SOURCE;
  }
  /**
   * The subnets whose hosts this instance may probe: the test address's, or for
   * ARP the group's IPv4 data addresses' (the link the members share).
   */
  get subnets(): Cidr[] {
    if (this.testAddress) return [this.testAddress];
    return this.phyint.group.addresses.map((a) => a.address).filter((c) => c.family === this.family);
  }
  /** Can probe (in.mpathd PROBE_ENABLED: a test address, here also ARP). */
  get probeEnabled(): boolean {
    return this.hasSource && !this.phyint.offline;
  }
  /** Probe-enabled with at least one target (PROBE_CAPABLE). */
  get probeCapable(): boolean {
    return this.probeEnabled && this.targets.activeCount > 0;
  }

  /** How long an unanswered probe may wait before it counts as lost. */
  timeoutOf(slot: ProbeSlot<Target>): number {
    const crtt = slot.target?.rtt.crtt ?? 0;
    return crtt > 0 ? crtt : this.phyint.group.probeIntervalMs;
  }
}

export class Phyint {
  #status: PhyintStatus = 'init';
  #failed = false;
  #inactive = false;
  #duplicateMac = false;
  present = false;
  /** Link state as processed by the engine (in.mpathd LINK_UP). */
  linkUp = false;
  /** Link state as last reported, maybe not processed yet (in.mpathd FLAGS_TO_LINK_STATE). */
  kernelLinkUp = false;
  mac: string | undefined;
  failureCause: FailureCause | undefined;
  lastChangeAt = 0;
  /** The last LINK_UP_PERMIN link-up times, for anti-flap. */
  readonly linkUpTimes: number[] = Array<number>(LINK_UP_PERMIN).fill(0);
  linkUpIndex = 0;
  flapMessageLogged = false;
  joinedAt: number;
  noTestAddressReported = false;
  readonly instances: ProbeInstance[] = [];
  readonly counters = { linkFailures: 0, probeFailures: 0, repairs: 0 };

  constructor(
    readonly name: string,
    /** Not readonly: a reload carries an unchanged member over into the new engine's group. */
    public group: Group,
    readonly standby: boolean,
    now: number,
  ) {
    this.joinedAt = now;
  }

  /** in.mpathd pi_state. */
  get status(): PhyintStatus {
    return this.#status;
  }
  /** IFF_FAILED: detected failed (kept while offline, so online knows to come back failed). */
  get failedFlag(): boolean {
    return this.#failed;
  }
  /** IFF_OFFLINE: the same fact as the offline state (invariant 1). */
  get offline(): boolean {
    return this.#status === 'offline';
  }
  /** IFF_INACTIVE: working but holding back (a standby, or waiting for failback). */
  get inactive(): boolean {
    return this.#inactive;
  }
  /** Kept out of use because its MAC duplicates another member's (ipmpstat flag h). */
  get duplicateMac(): boolean {
    return this.#duplicateMac;
  }

  /** Enter a state, remembering when. Going offline ends INACTIVE (invariant 3). */
  setStatus(status: PhyintStatus, now: number): void {
    if (status === 'offline') this.#inactive = false;
    if (this.#status === status) return;
    this.#status = status;
    this.lastChangeAt = now;
  }
  /** Set IFF_FAILED; a failed interface never waits INACTIVE (invariant 3). */
  markFailed(): void {
    this.#failed = true;
    this.#inactive = false;
  }
  /** Clear IFF_FAILED (repaired). */
  clearFailed(): void {
    this.#failed = false;
  }
  /** INACTIVE only for a member neither failed nor offline (invariant 3): a request otherwise is dropped. */
  setInactive(inactive: boolean): void {
    this.#inactive = inactive && !this.#failed && !this.offline;
  }
  /** Returns whether the flag changed. */
  setDuplicateMac(duplicate: boolean): boolean {
    if (this.#duplicateMac === duplicate) return false;
    this.#duplicateMac = duplicate;
    return true;
  }

  /** The first invariant (see the top of this file) this member breaks, if any. */
  brokenInvariant(): string | undefined {
    if (this.#status === 'failed' && !this.#failed) return 'failed without IFF_FAILED';
    if (this.#status === 'running' && this.#failed) return 'running with IFF_FAILED';
    if (this.#inactive && (this.#failed || this.offline)) return 'INACTIVE while failed or offline';
    return undefined;
  }

  instance(family: Family): ProbeInstance | undefined {
    return this.instances.find((i) => i.family === family);
  }
  get probeEnabled(): boolean {
    return this.instances.some((i) => i.probeEnabled);
  }
  /** Some instance can probe (a test address, or ARP). */
  get hasProbeSource(): boolean {
    return this.instances.some((i) => i.hasSource);
  }
  /** Time to say once that probing is off for lack of a test address. */
  noTestAddressDueAt(): number {
    return this.noTestAddressReported || this.hasProbeSource || this.offline
      ? Number.POSITIVE_INFINITY
      : this.joinedAt + TESTADDR_CONF_TIME_MS;
  }
  /** RUNNING, or NOTARGETS without IFF_FAILED (in.mpathd phyint_is_functioning). */
  get functioning(): boolean {
    return this.status === 'running' || (this.status === 'notargets' && !this.failedFlag);
  }
  /** Functioning and able to hold addresses. */
  get usable(): boolean {
    return this.functioning && this.present && !this.offline;
  }
  /** May hold data addresses now (ipmpstat ACTIVE). */
  get active(): boolean {
    return this.usable && !this.inactive && !this.duplicateMac;
  }

  get interfaceState(): InterfaceState {
    if (this.offline) return 'offline';
    if (this.status === 'running') return 'ok';
    if (this.status === 'failed' || (this.status === 'notargets' && this.failedFlag)) return 'failed';
    return 'unknown';
  }
  get probeState(): ProbeState {
    if (!this.hasProbeSource) return 'disabled';
    if (this.interfaceState === 'failed') return 'failed';
    if (!this.instances.some((i) => i.probeCapable)) return 'unknown';
    return 'ok';
  }
}

export interface DataAddress {
  address: Cidr;
  /** Where the address returns on failback: the preferred interface, or where it was first placed. */
  home: string | undefined;
  pinned: boolean;
  /** Which member holds it now (the engine's belief, confirmed by observations). */
  holder: string | undefined;
  moveInFlight: boolean;
}

export class Group {
  readonly members: Phyint[] = [];
  readonly addresses: DataAddress[] = [];
  state: GroupState = 'failed'; // a named group starts failed (no message), as in illumos
  #fdtMs: number;
  #probeIntervalMs: number;
  lastFdtRaiseAt = Number.NEGATIVE_INFINITY;
  /** Every member lost every target at once (rediscover mode): reported, not failed. */
  targetsUnreachable = false;
  /** Off until the engine has seen every link once, so start-up does not move addresses. */
  placing = false;
  /** Members that just became active through repair or online: addresses homed there return. */
  readonly failbackTo = new Map<string, 'failback' | 'admin'>();

  constructor(
    readonly name: string,
    readonly configuredFdtMs: number,
    readonly staticTargets: readonly string[],
    /** How IPv4 members probe (IPv6 members always use ICMPv6). */
    readonly probeMethod: ProbeMethod = 'icmp',
    /** in.mpathd's anonymous group: observe only (see anonymous.ts). */
    readonly anonymous = false,
  ) {
    if (anonymous) this.state = 'ok'; // always ok, as in in.mpathd
    this.#fdtMs = configuredFdtMs;
    this.#probeIntervalMs = probeIntervalFor(configuredFdtMs);
  }

  /** FDT in effect (raised above the configured one while targets answer slowly). */
  get fdtMs(): number {
    return this.#fdtMs;
  }
  /** Probe interval in effect: always probeIntervalFor(fdtMs) (invariant 5). */
  get probeIntervalMs(): number {
    return this.#probeIntervalMs;
  }
  /** The only writer of the pair: the interval follows the FDT. */
  setEffectiveFdt(fdtMs: number): void {
    this.#fdtMs = fdtMs;
    this.#probeIntervalMs = probeIntervalFor(fdtMs);
  }

  get configuredProbeIntervalMs(): number {
    return probeIntervalFor(this.configuredFdtMs);
  }
  /** The first invariant (see the top of this file) this group breaks, if any. */
  brokenInvariant(): string | undefined {
    if (this.#probeIntervalMs !== probeIntervalFor(this.#fdtMs)) return 'probe interval apart from the FDT';
    if (this.#fdtMs < this.configuredFdtMs) return 'FDT below the configured one';
    return undefined;
  }
  get failed(): boolean {
    return this.state === 'failed';
  }
  member(name: string): Phyint | undefined {
    return this.members.find((m) => m.name === name);
  }
}
