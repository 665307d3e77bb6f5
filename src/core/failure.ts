// Failure and repair decisions (in.mpathd phyint_inst_probe_failure_state,
// failure_state, phyint_inst_check_for_failure, phyint_repaired).

import { MSEC_PERMIN, NUM_PROBE_FAILS, NUM_PROBE_REPAIRS } from './constants.js';
import type { EngineContext } from './context.js';
import type { Phyint, ProbeInstance } from './model.js';
import { activateAnother, refreshGroupState, setStatus, transitionToRunning } from './transitions.js';
import { resetRtt, startDiscovery, targetFailed } from './targetUpkeep.js';

type Verdict = { kind: 'ok' } | { kind: 'interface' | 'group'; cause: 'link' | 'probe'; firstFailureAt: number };

/** Probe evidence on one instance: ok, a bad target, or NUM_PROBE_FAILS losses on every capable family. */
function probeFailureState(inst: ProbeInstance, ctx: EngineContext): { failed: false } | { failed: true; firstFailureAt: number } {
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
  for (const other of group.members) {
    if (other === pi) continue;
    if (!pi.linkUp) {
      if (other.status === 'running' && !group.failed && other.kernelLinkUp) return { kind: 'interface', cause, firstFailureAt };
      continue;
    }
    if (!other.linkUp) continue;
    // a working link-only member proves the group alive
    if (!other.probeEnabled) return { kind: 'interface', cause, firstFailureAt };
    for (const oi of other.instances) {
      const last = oi.ring.successInfo(ctx.now, undefined, (s) => oi.timeoutOf(s)).lastSuccessAt;
      if (last !== undefined && last > firstFailureAt && other.status === 'running' && !group.failed && other.kernelLinkUp) {
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
    pi.failedFlag = true;
    pi.inactive = false;
    pi.failureCause = verdict.cause;
    if (verdict.cause === 'link') pi.counters.linkFailures++;
    else pi.counters.probeFailures++;
    ctx.emit({ kind: 'interface_failed', group: group.name, ifname: pi.name, cause: verdict.cause, firstFailureAt: verdict.firstFailureAt });
    if (wasActive) activateAnother(pi);
    if (pi.status !== 'offline') {
      setStatus(pi, 'failed', ctx);
      resetRtt(pi);
    }
    refreshGroupState(group, ctx);
    return;
  }
  if (verdict.cause === 'probe' && ctx.settings.onAllTargetsLost === 'rediscover' && everyLiveMemberProbing(pi) && !anotherMemberAnsweredSince(pi, verdict.firstFailureAt, ctx)) {
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
    m.failedFlag = true;
    m.inactive = false;
    if (m.status === 'offline') continue;
    resetRtt(m);
    if (m.status === 'running') {
      m.failureCause = verdict.cause;
      if (verdict.cause === 'link') m.counters.linkFailures++;
      else m.counters.probeFailures++;
      setStatus(m, 'failed', ctx);
    }
  }
  refreshGroupState(group, ctx);
}

/**
 * A member that is still answering (one not yet repaired, say, after it was unplugged
 * and plugged back) proves the targets alive: this is no "every target lost" case,
 * and rediscovery would throw away that member's working targets.
 */
function anotherMemberAnsweredSince(pi: Phyint, since: number, ctx: EngineContext): boolean {
  return pi.group.members.some((m) => m !== pi && m.linkUp && m.present && m.instances.some((i) => (i.ring.successInfo(ctx.now, undefined, (s) => i.timeoutOf(s)).lastSuccessAt ?? -Infinity) > since));
}

/** More than one member has its link up and probes: the evidence spans interfaces. */
function everyLiveMemberProbing(pi: Phyint): boolean {
  const live = pi.group.members.filter((m) => m.linkUp && m.present && m.status !== 'offline');
  return live.length >= 2 && live.every((m) => m.probeEnabled);
}

/** in.mpathd phyint_repaired: link up, and ten answered probes (or, link-only, a stable link). */
export function isRepaired(pi: Phyint, ctx: EngineContext): boolean {
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
    pi.failedFlag = false;
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
