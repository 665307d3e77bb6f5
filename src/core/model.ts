// The engine's state: groups, their member interfaces (in.mpathd "phyints")
// and each interface's per-family probing instance. Plain data plus derived
// predicates; the decisions live in the other core modules.

import type { Cidr, Family } from '../config/types.js';
import { FAILURE_DETECTION_QP_MS, LINK_UP_PERMIN, probeIntervalFor, TESTADDR_CONF_TIME_MS } from './constants.js';
import { ProbeRing, type ProbeSlot } from './probeRing.js';
import { Target, TargetList } from './targets.js';
import type { FailureCause, GroupState, InterfaceState, ProbeState } from './types.js';

/** in.mpathd pi_state. */
export type PhyintStatus = 'init' | 'running' | 'failed' | 'offline' | 'notargets';

export class ProbeInstance {
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
    readonly family: Family,
    readonly testAddress: Cidr | undefined,
    now: number,
    /** Who hears of lost probes: the engine that owns this instance (a reload hands it over). */
    public onSlotChange: (inst: ProbeInstance, slot: ProbeSlot<Target>) => void,
  ) {
    this.quietUntil = now + FAILURE_DETECTION_QP_MS;
    this.ring = new ProbeRing<Target>((slot) => this.onSlotChange(this, slot));
  }

  /** Has a test address (in.mpathd PROBE_ENABLED). */
  get probeEnabled(): boolean {
    return this.testAddress !== undefined && !this.phyint.offline;
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
  status: PhyintStatus = 'init';
  present = false;
  /** Link state as processed by the engine (in.mpathd LINK_UP). */
  linkUp = false;
  /** Link state as last reported, maybe not processed yet (in.mpathd FLAGS_TO_LINK_STATE). */
  kernelLinkUp = false;
  mac: string | undefined;
  /** in.mpathd IFF_FAILED / IFF_INACTIVE / IFF_OFFLINE flags. */
  failedFlag = false;
  inactive = false;
  offline = false;
  /** Offlined because its MAC duplicates another member's (ipmpstat flag h). */
  duplicateMac = false;
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

  instance(family: Family): ProbeInstance | undefined {
    return this.instances.find((i) => i.family === family);
  }
  get probeEnabled(): boolean {
    return this.instances.some((i) => i.probeEnabled);
  }
  get hasTestAddress(): boolean {
    return this.instances.some((i) => i.testAddress !== undefined);
  }
  /** Time to say once that probing is off for lack of a test address. */
  noTestAddressDueAt(): number {
    return this.noTestAddressReported || this.hasTestAddress || this.offline ? Number.POSITIVE_INFINITY : this.joinedAt + TESTADDR_CONF_TIME_MS;
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
    if (this.status === 'offline' || this.offline) return 'offline';
    if (this.status === 'running') return 'ok';
    if (this.status === 'failed' || (this.status === 'notargets' && this.failedFlag)) return 'failed';
    return 'unknown';
  }
  get probeState(): ProbeState {
    if (!this.hasTestAddress) return 'disabled';
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
  /** Probe interval and FDT in effect (may be raised above the configured ones). */
  probeIntervalMs: number;
  fdtMs: number;
  lastFdtRaiseAt = Number.NEGATIVE_INFINITY;
  /** Every member lost every target at once (rediscover mode): reported, not failed. */
  targetsUnreachable = false;
  /** Off until the engine has seen every link once, so start-up does not move addresses. */
  placing = false;
  /** Members that just became active through repair or online: addresses homed there return. */
  readonly failbackTo = new Map<string, 'failback' | 'admin'>();

  constructor(
    readonly name: string,
    readonly userFdtMs: number,
    readonly staticTargets: readonly string[],
    /** in.mpathd's anonymous group: observe only (see anonymous.ts). */
    readonly anonymous = false,
  ) {
    if (anonymous) this.state = 'ok'; // always ok, as in in.mpathd
    this.fdtMs = userFdtMs;
    this.probeIntervalMs = probeIntervalFor(userFdtMs);
  }

  get userProbeIntervalMs(): number {
    return probeIntervalFor(this.userFdtMs);
  }
  get failed(): boolean {
    return this.state === 'failed';
  }
  member(name: string): Phyint | undefined {
    return this.members.find((m) => m.name === name);
  }
}
