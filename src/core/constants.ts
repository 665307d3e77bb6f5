// in.mpathd's numbers (illumos mpd_defs.h), kept so ipmpd behaves as operators
// who know Solaris expect. Times in milliseconds.

export const NUM_PROBE_FAILS = 5; // consecutive lost probes that fail an interface
export const NUM_PROBE_REPAIRS = 10; // consecutive answered probes that repair it
export const MIN_PROBE_TARGETS = 3; // kept when replacing targets
export const MAX_PROBE_TARGETS = 5; // active targets per instance
export const PROBE_STATS_COUNT = NUM_PROBE_REPAIRS * MAX_PROBE_TARGETS + 2; // probe ring: 52
export const MIN_RANDOM_FACTOR = 0.5; // probes go out in the second half of their period
export const MAX_RANDOM_FACTOR = 1.0;
export const MIN_RECOVERY_TIME_MS = 60_000; // dead/slow target retried after this
export const MIN_SETTLING_TIME_MS = 60_000; // before a raised FDT may be lowered
export const FAILURE_DETECTION_QP_MS = 40_000; // start-up quiet period (spanning tree)
export const TESTADDR_CONF_TIME_MS = 20_000; // grace before "no test address" is reported
export const NEXT_FDT_MULTIPLE = 2;
export const LOWER_FDT_TRIGGER = 4;
export const EXCEPTION_FACTOR = 2;
export const LINK_UP_PERMIN = 2; // more link-ups than this in a minute defers repair
export const MSEC_PERMIN = 60_000;
export const MIN_FDT_MS = 100;

/** in.mpathd: user_probe_interval = FDT / (NUM_PROBE_FAILS + 2), integer division. */
export function probeIntervalFor(fdtMs: number): number {
  return Math.floor(fdtMs / (NUM_PROBE_FAILS + 2));
}
/** in.mpathd MAXDEFERREDRTT: suspect RTT samples held back before they are believed. */
export const MAX_DEFERRED_RTT = 1;
