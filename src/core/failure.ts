// Failure and repair decisions (in.mpathd phyint_inst_probe_failure_state,
// failure_state, phyint_inst_check_for_failure, phyint_repaired).

import { MSEC_PERMIN, NUM_PROBE_FAILS, NUM_PROBE_REPAIRS } from './constants.js';
import type { EngineContext } from './context.js';
import type { Phyint, ProbeInstance } from './model.js';
import { activateAnother, refreshGroupState, transitionToRunning } from './transitions.js';
import { resetRtt, startDiscovery, targetFailed } from './targetUpkeep.js';

type Verdict = { kind: 'ok' } | { kind: 'interface' | 'group'; cause: 'link' | 'probe'; firstFailureAt: number };

/** Probe evidence on one instance: ok, a bad target, or NUM_PROBE_FAILS losses on every capable family. */
function probeFailureState(
  inst: ProbeInstance,
  ctx: EngineContext,
): { failed: false } | { failed: true; firstFailureAt: number } {
  const newest = inst.ring.newestFirst().next().value;
  const current = newest?.target;
  const info = inst.ring.failInfo(ctx.now, current, (s) => inst.timeoutOf(s));
  if (info.failures < NUM_PROBE_FAILS && info.targetFailures >= NUM_PROBE_FAILS && current) {
    // this target is silent while others answer: the target is bad, not the NIC
    targetFailed(inst, current, ctx);
    return { failed: false };
  }
  if (info.failures < NUM_PROBE_FAILS) return { failed: false };
  let firstFailureAt = info.firstFailureAt;
  const other = inst.phyint.instances.find((i) => i !== inst && i.probeCapable);
  if (other) {
    const otherInfo = other.ring.failInfo(ctx.now, undefined, (s) => other.timeoutOf(s));
    if (otherInfo.failures < NUM_PROBE_FAILS) return { failed: false };
    firstFailureAt = Math.min(firstFailureAt, otherInfo.firstFailureAt);
  }
  return { failed: true, firstFailureAt };
}

/** Is this an interface failure, or has the whole group failed? */
function failureState(pi: Phyint, inst: ProbeInstance | undefined, ctx: EngineContext): Verdict {
  let firstFailureAt = ctx.now;
  if (pi.linkUp) {
    if (!inst) return { kind: 'ok' };
    const r = probeFailureState(inst, ctx);
    if (!r.failed) return { kind: 'ok' };
    firstFailureAt = r.firstFailureAt;
  }
  const cause = pi.linkUp ? 'probe' : 'link';
  const group = pi.group;
  // its members prove nothing about each other: every failure is the NIC's own
  if (group.anonymous) return { kind: 'interface', cause, firstFailureAt };
  for (const other of group.members) {
    if (other === pi) continue;
    if (!pi.linkUp) {
      if (other.status === 'running' && !group.failed && other.kernelLinkUp)
        return { kind: 'interface', cause, firstFailureAt };
      continue;
    }
    if (!other.linkUp) continue;
    // a working link-only member proves the group alive
    if (!other.probeEnabled) return { kind: 'interface', cause, firstFailureAt };
    for (const oi of other.instances) {
      const last = oi.ring.successInfo(ctx.now, undefined, (s) => oi.timeoutOf(s)).lastSuccessAt;
      if (
        last !== undefined &&
        last > firstFailureAt &&
        other.status === 'running' &&
        !group.failed &&
        other.kernelLinkUp
      ) {
        return { kind: 'interface', cause, firstFailureAt };
      }
    }
  }
  return { kind: 'group', cause, firstFailureAt };
}

/** Called on a failure-detection tick with losses, and on link down. */
export function checkForFailure(pi: Phyint, inst: ProbeInstance | undefined, ctx: EngineContext): void {
  const verdict = failureState(pi, inst, ctx);
  if (verdict.kind === 'ok') return;
  const group = pi.group;
  if (verdict.kind === 'interface') {
    const wasActive = !pi.inactive;
    pi.markFailed();
    pi.failureCause = verdict.cause;
    if (verdict.cause === 'link') pi.counters.linkFailures++;
    else pi.counters.probeFailures++;
    ctx.emit({
      kind: 'interface_failed',
      group: group.name,
      ifname: pi.name,
      cause: verdict.cause,
      firstFailureAt: verdict.firstFailureAt,
    });
    if (wasActive) activateAnother(pi);
    if (pi.status !== 'offline') {
      pi.setStatus('failed', ctx.now);
      resetRtt(pi);
    }
    refreshGroupState(group, ctx);
    return;
  }
  if (
    verdict.cause === 'probe' &&
    ctx.settings.onAllTargetsLost === 'rediscover' &&
    everyTargetLostAtOnce(pi, verdict.firstFailureAt, ctx)
  ) {
    // The Sun document's topology 1.1 defect: every member lost every target at
    // once. That is the targets' failure, not the NICs': look for new targets.
    if (!group.targetsUnreachable) {
      group.targetsUnreachable = true;
      ctx.emit({ kind: 'targets_unreachable', group: group.name });
    }
    for (const m of group.members) for (const i of m.instances) if (i.probeEnabled) startDiscovery(i, ctx);
    return;
  }
  for (const m of group.members) {
    m.markFailed();
    if (m.status === 'offline') continue;
    resetRtt(m);
    if (m.status === 'running') {
      m.failureCause = verdict.cause;
      if (verdict.cause === 'link') m.counters.linkFailures++;
      else m.counters.probeFailures++;
      m.setStatus('failed', ctx.now);
    }
  }
  refreshGroupState(group, ctx);
}

/**
 * The one case `on_all_targets_lost: rediscover` takes out of in.mpathd's group
 * failure: the Sun document's topology 1.1 defect, where the targets died, not the
 * NICs. It holds only when
 *  - at least two members are in the group on the host (present, not offline),
 *  - every one of them was healthy (running, link up, not failed) and probing, and
 *  - every other one last heard an answer within one detection window (the group's
 *    FDT) before this member's first loss, and none since: they all went silent at once.
 * A member that already failed (by carrier or by probes), one that does not probe, or
 * one silent for longer than a detection window makes it a group failure: NICs that die
 * one after the other must page. A member still answering (one not yet repaired after a
 * re-plug, say) never gets here: its answer makes this an interface failure.
 */
function everyTargetLostAtOnce(pi: Phyint, firstFailureAt: number, ctx: EngineContext): boolean {
  const inGroup = pi.group.members.filter((m) => m.present && m.status !== 'offline' && !m.offline);
  if (inGroup.length < 2) return false;
  const healthy = (m: Phyint) => m.status === 'running' && !m.failedFlag && m.linkUp && m.probeEnabled;
  if (!inGroup.every(healthy)) return false;
  const windowStart = firstFailureAt - pi.group.fdtMs;
  return inGroup.every((m) => {
    if (m === pi) return true;
    const last = lastAnswerAt(m, ctx);
    return last !== undefined && last >= windowStart && last <= firstFailureAt;
  });
}

function lastAnswerAt(m: Phyint, ctx: EngineContext): number | undefined {
  let last: number | undefined;
  for (const i of m.instances) {
    const at = i.ring.successInfo(ctx.now, undefined, (s) => i.timeoutOf(s)).lastSuccessAt;
    if (at !== undefined && (last === undefined || at > last)) last = at;
  }
  return last;
}

/** in.mpathd phyint_repaired: link up, and ten answered probes (or, link-only, a stable link). */
function isRepaired(pi: Phyint, ctx: EngineContext): boolean {
  if (!pi.linkUp || !pi.present) return false;
  if (!pi.probeEnabled) {
    const older = pi.linkUpTimes[pi.linkUpIndex]!;
    if (older === 0 || ctx.now - older > MSEC_PERMIN) {
      pi.flapMessageLogged = false;
      return true;
    }
    if (!pi.flapMessageLogged) {
      ctx.emit({ kind: 'repair_deferred_flapping', group: pi.group.name, ifname: pi.name });
      pi.flapMessageLogged = true;
    }
    return false;
  }
  for (const inst of pi.instances) {
    if (!inst.probeCapable) continue;
    const current = inst.ring.newestFirst().next().value?.target;
    const s = inst.ring.successInfo(ctx.now, current, (sl) => inst.timeoutOf(sl));
    if (s.successes >= NUM_PROBE_REPAIRS || s.targetSuccesses >= NUM_PROBE_REPAIRS) return true;
  }
  return false;
}

export function checkForRepair(pi: Phyint, ctx: EngineContext): void {
  if (!isRepaired(pi, ctx)) return;
  pi.counters.repairs++;
  pi.failureCause = undefined;
  ctx.emit({ kind: 'interface_repaired', group: pi.group.name, ifname: pi.name });
  if (pi.status === 'offline') {
    pi.clearFailed();
    return;
  }
  transitionToRunning(pi, ctx);
}

/** Link went down: forget probe history (repair must not lean on it) and check for failure. */
export function linkDown(pi: Phyint, ctx: EngineContext): void {
  for (const inst of pi.instances) if (inst.probeCapable) inst.ring.clear();
  if (pi.status === 'running' || (pi.status !== 'failed' && !pi.group.failed)) {
    checkForFailure(pi, pi.instances[0], ctx);
  }
}
