// The last PROBE_STATS_COUNT failure-detection probes of one interface
// instance, as in.mpathd's pii_probes[]: what was sent to whom, and whether it
// was answered. Failure and repair are decided by reading it from the newest
// probe backwards.

import { PROBE_STATS_COUNT } from './constants.js';

export type ProbeStatus = 'unused' | 'unacked' | 'acked' | 'lost';

export interface ProbeSlot<T> {
  status: ProbeStatus;
  seq: number;
  target: T | undefined;
  sentAt: number;
  /** When it was judged lost (its timeout), for the time of first failure. */
  lostAt: number;
  /** When the reply was processed. */
  ackedAt: number;
}

export interface FailInfo {
  /** Consecutive losses across all targets, newest first. */
  failures: number;
  /** Consecutive losses to `target` (other targets' probes are skipped). */
  targetFailures: number;
  /** Time of the first failure of the consecutive run. */
  firstFailureAt: number;
}

export interface SuccessInfo {
  successes: number;
  targetSuccesses: number;
  /** Time of the last success, undefined if none in the ring. */
  lastSuccessAt: number | undefined;
}

const SEQ_MOD = 0x10000;
const seqAdd = (a: number, b: number): number => (((a + b) % SEQ_MOD) + SEQ_MOD) % SEQ_MOD;
/** Signed distance a - b in 16-bit sequence space. */
const seqDiff = (a: number, b: number): number => {
  const d = seqAdd(a, -b);
  return d >= SEQ_MOD / 2 ? d - SEQ_MOD : d;
};

export class ProbeRing<T> {
  readonly slots: ProbeSlot<T>[];
  /** Index of the slot the next probe uses. */
  private nextIndex = 0;
  /** Sequence number of the next failure-detection probe (in.mpathd starts at 1). */
  snxt = 1;
  /** Highest sequence number answered (in.mpathd pii_rack). */
  rack = 0;

  constructor(private readonly onStatusChange: (slot: ProbeSlot<T>, previous: ProbeStatus) => void = () => {}) {
    this.slots = Array.from({ length: PROBE_STATS_COUNT }, () => emptySlot<T>());
  }

  clear(): void {
    for (const s of this.slots) Object.assign(s, emptySlot<T>());
    this.rack = seqAdd(this.snxt, -1 - PROBE_STATS_COUNT); // outside the window: nothing acked
  }

  /** Record a probe being sent; returns its sequence number. */
  record(target: T, now: number): number {
    const slot = this.slots[this.nextIndex]!;
    const seq = this.snxt;
    Object.assign(slot, { status: 'unacked', seq, target, sentAt: now, lostAt: 0, ackedAt: 0 });
    this.nextIndex = (this.nextIndex + 1) % PROBE_STATS_COUNT;
    this.snxt = seqAdd(this.snxt, 1);
    return seq;
  }

  /** The slot for a reply's sequence number, or why it is out of window. */
  lookup(seq: number): ProbeSlot<T> | undefined {
    const back = seqDiff(this.snxt, seq); // 1 = newest
    if (back < 1 || back > PROBE_STATS_COUNT) return undefined;
    const idx = (this.nextIndex - back + PROBE_STATS_COUNT * 2) % PROBE_STATS_COUNT;
    const slot = this.slots[idx]!;
    return slot.status === 'unused' ? undefined : slot;
  }

  setStatus(slot: ProbeSlot<T>, status: ProbeStatus): void {
    if (slot.status === status) return;
    const previous = slot.status;
    slot.status = status;
    this.onStatusChange(slot, previous);
  }

  /** Mark a slot answered and advance rack as in.mpathd does. */
  ack(slot: ProbeSlot<T>, now: number): void {
    slot.ackedAt = now;
    this.setStatus(slot, 'acked');
    const rackOutOfWindow =
      seqDiff(this.rack, this.snxt) >= 0 || seqDiff(this.rack, seqAdd(this.snxt, -PROBE_STATS_COUNT)) < 0;
    if (rackOutOfWindow || seqDiff(slot.seq, this.rack) > 0) this.rack = slot.seq;
  }

  /** Whether `target` has an answered probe newer than `seq` (in.mpathd highest_ack_tg). */
  hasNewerAck(seq: number, target: T): boolean {
    for (const s of this.newestFirst()) {
      if (s.target === target && s.status === 'acked' && seqDiff(s.seq, seq) > 0) return true;
    }
    return false;
  }

  *newestFirst(): Generator<ProbeSlot<T>> {
    for (let i = 1; i <= PROBE_STATS_COUNT; i++) {
      yield this.slots[(this.nextIndex - i + PROBE_STATS_COUNT) % PROBE_STATS_COUNT]!;
    }
  }

  /**
   * At a failure-detection tick: the two newest probes, if unanswered, are lost
   * once past their timeout; the second newest is lost regardless, since at
   * most one probe may be outstanding. Returns how many (0 or 1) are still
   * validly outstanding.
   */
  resolveOutstanding(now: number, timeoutOf: (slot: ProbeSlot<T>) => number): number {
    let valid = 0;
    let i = 0;
    for (const slot of this.newestFirst()) {
      if (i++ >= 2) break;
      if (slot.status !== 'unacked') continue;
      const deadline = slot.sentAt + timeoutOf(slot);
      if (deadline < now) {
        slot.lostAt = deadline;
        this.setStatus(slot, 'lost');
      } else if (i === 2) {
        slot.lostAt = now;
        this.setStatus(slot, 'lost');
      } else {
        valid++;
      }
    }
    return valid;
  }

  /** True when the newest resolved probe was answered (in.mpathd: rack + unacked + 1 == snxt). */
  newestResolvedAcked(validUnacked: number): boolean {
    return seqAdd(this.rack, validUnacked + 1) === this.snxt;
  }

  failInfo(now: number, target: T | undefined, timeoutOf: (slot: ProbeSlot<T>) => number): FailInfo {
    const info: FailInfo = { failures: 0, targetFailures: 0, firstFailureAt: 0 };
    let sawSuccess = false;
    let sawTargetSuccess = false;
    for (const slot of this.newestFirst()) {
      if (slot.status === 'unacked') {
        const deadline = slot.sentAt + timeoutOf(slot);
        if (deadline > now) continue; // still in flight: neither success nor failure
        slot.lostAt = deadline;
        this.setStatus(slot, 'lost');
      }
      if (slot.status === 'lost') {
        if (!sawSuccess) {
          info.failures++;
          info.firstFailureAt = slot.lostAt;
        }
        if (target !== undefined && slot.target === target && !sawTargetSuccess) info.targetFailures++;
      } else {
        // acked or unused ends the run
        sawSuccess = true;
        if (target !== undefined && slot.target === target) sawTargetSuccess = true;
      }
    }
    return info;
  }

  successInfo(now: number, target: T | undefined, timeoutOf: (slot: ProbeSlot<T>) => number): SuccessInfo {
    const info: SuccessInfo = { successes: 0, targetSuccesses: 0, lastSuccessAt: undefined };
    let sawFailure = false;
    let sawTargetFailure = false;
    for (const slot of this.newestFirst()) {
      if (slot.status === 'unused') break;
      if (slot.status === 'unacked') {
        const deadline = slot.sentAt + timeoutOf(slot);
        if (deadline >= now) continue;
        slot.lostAt = deadline;
        this.setStatus(slot, 'lost');
      }
      if (slot.status === 'acked') {
        if (!sawFailure) info.successes++;
        if (target !== undefined && slot.target === target && !sawTargetFailure) info.targetSuccesses++;
        if (info.lastSuccessAt === undefined) info.lastSuccessAt = slot.ackedAt;
      } else {
        sawFailure = true;
        if (target !== undefined && slot.target === target) sawTargetFailure = true;
      }
    }
    return info;
  }

  /** Forget probes sent to a target that was deleted, so late replies are refused. */
  forgetTarget(target: T): void {
    for (const s of this.slots) if (s.target === target) s.target = undefined;
  }

  /** Counts over the ring, for the loss ratio of the last window. */
  counts(): { acked: number; lost: number } {
    let acked = 0;
    let lost = 0;
    for (const s of this.slots) {
      if (s.status === 'acked') acked++;
      else if (s.status === 'lost') lost++;
    }
    return { acked, lost };
  }
}

function emptySlot<T>(): ProbeSlot<T> {
  return { status: 'unused', seq: 0, target: undefined, sentAt: 0, lostAt: 0, ackedAt: 0 };
}
