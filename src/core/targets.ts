// Probe targets of one interface instance (in.mpathd mpd_tables.c target_*):
// their states, round-robin order, RTT estimate and counters.

import { MAX_PROBE_TARGETS, MIN_PROBE_TARGETS, MIN_RECOVERY_TIME_MS } from './constants.js';
import { RttEstimator } from './rtt.js';

/** Where a target came from (metric label `source`). */
export type TargetSource = 'route' | 'default_router' | 'multicast' | 'static';
export type TargetStatus = 'active' | 'unused' | 'slow' | 'dead';

export interface TargetCounters {
  requests: number;
  replies: number;
  timeouts: number;
  duplicates: number;
  sendErrors: number;
}

export class Target {
  status: TargetStatus = 'active';
  statusSince: number;
  /**
   * When its last rest began (in.mpathd tg_latime): the moment it became
   * slow, or a dead target's first look after its death. Undefined if it
   * never rested. Being declared dead does not set it.
   */
  restSince: number | undefined;
  /** Dead, and its rest has begun (in.mpathd has turned it from TG_DEAD to TG_SLOW). */
  resting = false;
  readonly rtt = new RttEstimator();
  readonly counters: TargetCounters = { requests: 0, replies: 0, timeouts: 0, duplicates: 0, sendErrors: 0 };

  constructor(
    readonly address: string,
    readonly source: TargetSource,
    now: number,
  ) {
    this.statusSince = now;
  }

  /** Routers and static targets are kept when they fail; multicast-found hosts are deleted. */
  get isRouterLike(): boolean {
    return this.source !== 'multicast';
  }
}

export interface Candidate {
  address: string;
  source: TargetSource;
}

export class TargetList {
  readonly all: Target[] = [];
  private nextIndex = 0;
  private rttNextIndex = 0;

  get active(): Target[] {
    return this.all.filter((t) => t.status === 'active');
  }
  get activeCount(): number {
    let n = 0;
    for (const t of this.all) if (t.status === 'active') n++;
    return n;
  }
  /**
   * Routers (and static targets) are preferred: while one is active, hosts
   * found by multicast are not wanted. Hosts may stand in while every router
   * is dead (ipmpd's rediscover mode); in.mpathd never mixes the two.
   */
  get hasActiveRouters(): boolean {
    return this.all.some((t) => t.status === 'active' && t.isRouterLike);
  }
  get hosts(): Target[] {
    return this.all.filter((t) => !t.isRouterLike);
  }
  find(address: string): Target | undefined {
    return this.all.find((t) => t.address === address);
  }

  /** Round-robin over active targets for failure-detection probes. */
  next(): Target | undefined {
    return this.pick('nextIndex');
  }
  /** Separate round-robin for RTT-only probes. */
  nextForRtt(): Target | undefined {
    return this.pick('rttNextIndex');
  }
  private pick(which: 'nextIndex' | 'rttNextIndex'): Target | undefined {
    const n = this.all.length;
    for (let i = 0; i < n; i++) {
      const idx = (this[which] + i) % n;
      const t = this.all[idx]!;
      if (t.status === 'active') {
        this[which] = (idx + 1) % n;
        return t;
      }
    }
    return undefined;
  }

  /**
   * Add a target. Router-like targets push out hosts (in.mpathd: adding a
   * router deletes all host targets); hosts are refused when routers exist or
   * the list is full. Returns the targets removed to make room.
   */
  add(candidate: Candidate, now: number): { added?: Target; removed: Target[] } {
    const removed: Target[] = [];
    const isRouter = candidate.source !== 'multicast';
    const existing = this.find(candidate.address);
    // a host found by multicast that turns out to be a router becomes a router target
    if (existing && (existing.isRouterLike || !isRouter)) return { removed };
    if (isRouter) {
      for (const h of this.hosts) {
        this.remove(h);
        removed.push(h);
      }
    } else if (this.hasActiveRouters || this.activeCount >= MAX_PROBE_TARGETS) {
      return { removed };
    }
    const t = new Target(candidate.address, candidate.source, now);
    if (this.activeCount >= MAX_PROBE_TARGETS) t.status = 'unused';
    this.all.push(t);
    return { added: t, removed };
  }

  /**
   * Put router-like targets in preference order and make the first MAX of
   * them (not dead or slow) the active ones, the rest spares.
   */
  arrange(order: readonly string[], now: number): void {
    const rank = new Map(order.map((a, i) => [a, i]));
    const key = (t: Target) => rank.get(t.address) ?? order.length;
    this.all.sort((a, b) => key(a) - key(b));
    let active = 0;
    for (const t of this.all) {
      if (t.status === 'dead' || t.status === 'slow') continue;
      const want = active < MAX_PROBE_TARGETS ? 'active' : 'unused';
      if (want === 'active') active++;
      if (t.status !== want) this.setStatus(t, want, now);
    }
    this.nextIndex = this.rttNextIndex = 0;
  }

  remove(target: Target): void {
    const idx = this.all.indexOf(target);
    if (idx < 0) return;
    this.all.splice(idx, 1);
    if (this.nextIndex > idx) this.nextIndex--;
    if (this.rttNextIndex > idx) this.rttNextIndex--;
    if (this.all.length === 0) this.nextIndex = this.rttNextIndex = 0;
    else {
      this.nextIndex %= this.all.length;
      this.rttNextIndex %= this.all.length;
    }
  }

  clear(): Target[] {
    const removed = this.all.splice(0);
    this.nextIndex = this.rttNextIndex = 0;
    return removed;
  }

  setStatus(target: Target, status: TargetStatus, now: number): void {
    target.status = status;
    target.statusSince = now;
    target.resting = false;
    if (status === 'slow') target.restSince = now;
    if (status !== 'active') target.rtt.reset();
  }

  /**
   * Give slow and dead targets another chance, with in.mpathd's timing
   * (target_next): a slow target becomes a spare MIN_RECOVERY_TIME after it
   * became slow. A dead one first begins a rest of its own, at the first look
   * once MIN_RECOVERY_TIME has passed since its last rest began: for a target
   * that never rested, at once, so a dead router is probed again about 60 s
   * after its death, not 120 s. It is still reported dead while it rests
   * (in.mpathd calls it slow then). Then promote spares up to MAX active.
   * When the last active router was just lost, promote down the list until
   * MIN are active: unused, then slow, then dead (target_select_best).
   */
  recover(now: number, lastRouterLost = false): Target[] {
    const rested = (t: Target) => t.restSince === undefined || now - t.restSince > MIN_RECOVERY_TIME_MS;
    for (const t of this.all) {
      if (t.status === 'dead' && !t.resting) {
        if (rested(t)) {
          t.resting = true;
          t.restSince = now;
        }
      } else if ((t.status === 'slow' || t.status === 'dead') && rested(t)) {
        t.status = 'unused';
        t.statusSince = now;
        t.resting = false;
      }
    }
    const promoted: Target[] = [];
    const promote = (limit: number, order: TargetStatus[]): void => {
      for (const status of order) {
        for (const t of this.all) {
          if (this.activeCount >= limit) return;
          if (t.status === status) {
            this.setStatus(t, 'active', now);
            promoted.push(t);
          }
        }
      }
    };
    promote(MAX_PROBE_TARGETS, ['unused']);
    if (lastRouterLost && this.activeCount === 0) promote(MIN_PROBE_TARGETS, ['slow', 'dead']);
    return promoted;
  }
}
