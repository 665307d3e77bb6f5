// Per-target round-trip estimator: Jacobson/Karels as in in.mpathd's
// compute_crtt() and pi_set_crtt(). Times in milliseconds (fractional).
//
// Deliberate difference: in.mpathd truncates CRTT to whole milliseconds, so on
// a LAN it is 0 and the loss timeout falls back to the whole probe interval,
// which can push detection to 7.5 probe intervals (> FDT). ipmpd keeps the
// fraction, so a probe is judged lost at the next tick and detection stays
// within FDT.

import { MAX_DEFERRED_RTT } from './constants.js';

export class RttEstimator {
  /** Scaled average (8 × mean), -1 before the first sample. */
  private sa = -1;
  /** Scaled mean deviation (4 × mdev). */
  private sv = 0;
  /** Conservative RTT = mean + 4 × mdev; 0 = unknown. */
  crtt = 0;
  private deferred: number[] = [];

  /** Smoothed RTT (ipmpstat RTTAVG). */
  get average(): number {
    return this.sa < 0 ? 0 : this.sa / 8;
  }
  /** Mean deviation (ipmpstat RTTDEV). */
  get deviation(): number {
    return this.sv / 4;
  }

  reset(): void {
    this.sa = -1;
    this.sv = 0;
    this.crtt = 0;
    this.deferred = [];
  }

  /**
   * Feed one sample. A failure-detection (UNI) sample that alone would push
   * CRTT above the probe interval is held back once (a spike filter); an RTT
   * probe sample is applied only if it lowers CRTT.
   */
  update(sampleMs: number, probeIntervalMs: number, isFailureDetectionProbe: boolean): void {
    const next = computeCrtt(this.sa, this.sv, sampleMs);
    if (next.crtt > probeIntervalMs && isFailureDetectionProbe) {
      this.deferred.push(sampleMs);
      if (this.deferred.length > MAX_DEFERRED_RTT) {
        for (const m of this.deferred) {
          const r = computeCrtt(this.sa, this.sv, m);
          this.sa = r.sa;
          this.sv = r.sv;
          this.crtt = r.crtt;
        }
        this.deferred = [];
      }
      return;
    }
    if (isFailureDetectionProbe || next.crtt < this.crtt) {
      this.sa = next.sa;
      this.sv = next.sv;
      this.crtt = next.crtt;
      if (isFailureDetectionProbe) this.deferred = [];
    }
  }
}

export function computeCrtt(sa: number, sv: number, m: number): { sa: number; sv: number; crtt: number } {
  if (sa < 0) {
    sa = m * 8;
    sv = m * 2;
  } else {
    let err = m - sa / 8;
    sa += err;
    if (sa < 0) sa = 0;
    if (err < 0) err = -err;
    sv += err - sv / 4;
  }
  return { sa, sv, crtt: sa / 8 + sv };
}
