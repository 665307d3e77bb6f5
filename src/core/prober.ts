// The probe schedule and what replies do (in.mpathd phyint_inst_timer,
// start_timer, incoming_echo_reply, incoming_rtt_reply, pi_set_crtt's callers).

import {
  EXCEPTION_FACTOR,
  LOWER_FDT_TRIGGER,
  MAX_PROBE_TARGETS,
  MAX_RANDOM_FACTOR,
  MIN_PROBE_TARGETS,
  MIN_RANDOM_FACTOR,
  MIN_SETTLING_TIME_MS,
  MSEC_PERMIN,
  NEXT_FDT_MULTIPLE,
  NUM_PROBE_FAILS,
  PROBE_STATS_COUNT,
} from './constants.js';
import type { EngineContext } from './context.js';
import { checkForFailure, checkForRepair } from './failure.js';
import type { Group, Phyint, ProbeInstance } from './model.js';
import type { Target } from './targets.js';
import { multicastReply, requestMulticast, targetSlow } from './targetUpkeep.js';
import type { ProbeReply } from './types.js';

/** Spread instances over one probe interval (in.mpathd start_timer). */
export function startTimer(inst: ProbeInstance, ctx: EngineContext): void {
  const offset = ctx.random() * inst.phyint.group.probeIntervalMs;
  inst.sendBase = ctx.now + offset;
  inst.fdBase = inst.sendBase;
  inst.nextSendAt = inst.sendBase;
}

export function stopTimer(inst: ProbeInstance): void {
  inst.nextSendAt = Number.POSITIVE_INFINITY;
}

/** The next moment this phyint needs the engine: a probe, or a deferred link-only repair. */
export function nextDeadline(pi: Phyint): number {
  let t = Number.POSITIVE_INFINITY;
  if (!pi.probeEnabled && pi.status === 'failed' && pi.linkUp) {
    t = Math.min(t, pi.linkUpTimes[pi.linkUpIndex]! + MSEC_PERMIN + 1);
  }
  for (const inst of pi.instances) if (inst.probeEnabled && pi.linkUp) t = Math.min(t, inst.nextSendAt);
  return t;
}

/** Run whatever is due on this phyint. */
export function runPhyintTimers(pi: Phyint, ctx: EngineContext): void {
  if (!pi.probeEnabled && pi.status === 'failed' && pi.linkUp) {
    if (pi.linkUpTimes[pi.linkUpIndex]! + MSEC_PERMIN < ctx.now) checkForRepair(pi, ctx);
  }
  for (const inst of pi.instances) {
    if (inst.probeEnabled && pi.linkUp && inst.nextSendAt <= ctx.now) fire(inst, ctx);
  }
}

/**
 * One wake-up of an instance's timer: schedule the next, then either look for
 * targets, or measure RTT only (between failure-detection ticks while the FDT
 * is raised), or run a failure-detection tick and send its probe.
 */
function fire(inst: ProbeInstance, ctx: EngineContext): void {
  scheduleNextSend(inst, ctx);
  inst.targets.recover(ctx.now);
  if (inst.targets.activeCount === 0) {
    // nothing to probe: look for hosts
    inst.fdBase = inst.sendBase;
    requestMulticast(inst, ctx);
    return;
  }
  if (!isDetectionTick(inst)) {
    sendRttProbe(inst, ctx);
    return;
  }
  advanceDetectionBase(inst, ctx.now);
  judgeProbeHistory(inst, ctx);
  sendDetectionProbe(inst, ctx);
}

/** Next send somewhere in the second half of the next period; periods slept through are reported as missed. */
function scheduleNextSend(inst: ProbeInstance, ctx: EngineContext): void {
  const upi = inst.phyint.group.configuredProbeIntervalMs;
  const jitter = MIN_RANDOM_FACTOR * upi + ctx.random() * (MAX_RANDOM_FACTOR - MIN_RANDOM_FACTOR) * upi;
  inst.nextSendAt = inst.sendBase + jitter;
  if (ctx.now > inst.nextSendAt) {
    const n = Math.floor((ctx.now - inst.nextSendAt) / upi);
    inst.nextSendAt += (n + 1) * upi;
    inst.sendBase += (n + 1) * upi;
    ctx.emit({
      kind: 'probes_missed',
      group: inst.phyint.group.name,
      ifname: inst.phyint.name,
      family: inst.family,
      count: n + 1,
    });
  }
  inst.sendBase += upi;
}

/**
 * Sends go out every configured interval; while the FDT is raised, failure
 * detection runs only every (longer) effective interval, and the sends in
 * between only measure RTT.
 */
function isDetectionTick(inst: ProbeInstance): boolean {
  const group = inst.phyint.group;
  return group.configuredProbeIntervalMs === group.probeIntervalMs || inst.nextSendAt >= inst.fdBase;
}

function advanceDetectionBase(inst: ProbeInstance, now: number): void {
  const group = inst.phyint.group;
  const probeInterval = group.probeIntervalMs;
  if (group.configuredProbeIntervalMs === probeInterval) {
    inst.fdBase = inst.sendBase;
    return;
  }
  inst.fdBase += probeInterval;
  if (now > inst.fdBase) inst.fdBase += (Math.floor((now - inst.fdBase) / probeInterval) + 1) * probeInterval;
}

/** Resolve overdue probes as lost, then check a running member for failure or a failed one for repair. */
function judgeProbeHistory(inst: ProbeInstance, ctx: EngineContext): void {
  const pi = inst.phyint;
  const validUnacked = inst.ring.resolveOutstanding(ctx.now, (s) => inst.timeoutOf(s));
  const newestResolvedAcked = inst.ring.newestResolvedAcked(validUnacked);
  if (pi.status === 'failed') {
    if (newestResolvedAcked) checkForRepair(pi, ctx);
  } else if (pi.status === 'running') {
    if (inst.quietUntil <= ctx.now && !newestResolvedAcked) checkForFailure(pi, inst, ctx);
  }
}

function sendRttProbe(inst: ProbeInstance, ctx: EngineContext): void {
  const t = inst.targets.nextForRtt();
  if (t) send(inst, t, 'rtt', ctx);
}

function sendDetectionProbe(inst: ProbeInstance, ctx: EngineContext): void {
  const target = inst.targets.next();
  if (!target) {
    requestMulticast(inst, ctx);
    return;
  }
  send(inst, target, 'uni', ctx);
  // without routers, keep looking for hosts until five answer (in.mpathd asks only
  // while it has a single host target, which leaves a group on two or three)
  if (!inst.targets.hasActiveRouters && inst.targets.activeCount < MAX_PROBE_TARGETS) requestMulticast(inst, ctx);
}

function send(inst: ProbeInstance, target: Target, probeKind: 'uni' | 'rtt', ctx: EngineContext): void {
  const pi = inst.phyint;
  const seq = probeKind === 'uni' ? inst.ring.record(target, ctx.now) : inst.ring.snxt;
  if (probeKind === 'uni') target.counters.requests++;
  ctx.emit({
    kind: 'send_probe',
    group: pi.group.name,
    ifname: pi.name,
    family: inst.family,
    method: inst.method,
    source: inst.sourceAddress,
    target: target.address,
    seq,
    probeKind,
  });
}

/** A validated reply reached us: an echo reply, or an ARP reply matched to its probe. */
export function handleReply(inst: ProbeInstance, reply: ProbeReply, ctx: EngineContext): void {
  const pi = inst.phyint;
  if (!pi.linkUp) {
    ctx.emit({ kind: 'reply_ignored', ifname: pi.name, reason: 'link_down' });
    return;
  }
  if (reply.kind === 'multi') {
    multicastReply(inst, reply.source, ctx);
    return;
  }
  const rtt = reply.receivedAt - reply.sentAt;
  if (reply.kind === 'rtt') {
    const target = inst.targets.find(reply.source);
    if (!target) return ctx.emit({ kind: 'reply_ignored', ifname: pi.name, reason: 'not_a_target' });
    if (pi.status === 'running' && !pi.group.failed && rtt >= 0) {
      target.rtt.update(rtt, pi.group.probeIntervalMs, false);
      maybeLowerFdt(inst, target, ctx);
    }
    return;
  }
  handleUniReply(inst, reply, rtt, ctx);
}

function handleUniReply(inst: ProbeInstance, reply: ProbeReply, rtt: number, ctx: EngineContext): void {
  const pi = inst.phyint;
  const group = pi.group;
  const slot = inst.ring.lookup(reply.seq);
  if (!slot || !slot.target) return ctx.emit({ kind: 'reply_ignored', ifname: pi.name, reason: 'stale' });
  const target = slot.target;
  if (target.address !== reply.source)
    return ctx.emit({ kind: 'reply_ignored', ifname: pi.name, reason: 'not_a_target' });
  if (slot.status === 'acked') {
    target.counters.duplicates++;
    return ctx.emit({ kind: 'reply_ignored', ifname: pi.name, reason: 'duplicate' });
  }
  const late = slot.status === 'lost';
  // RTT only from plausible samples of a running interface, newest ack per target
  const plausible = rtt >= 0 && rtt <= PROBE_STATS_COUNT * group.probeIntervalMs;
  if (plausible && pi.status === 'running' && !group.failed && !inst.ring.hasNewerAck(reply.seq, target)) {
    target.rtt.update(rtt, group.probeIntervalMs, true);
    adaptFdt(inst, target, ctx);
  }
  inst.ring.ack(slot, ctx.now);
  target.counters.replies++;
  if (inst.quietUntil > ctx.now) inst.quietUntil = ctx.now; // an answer ends the quiet period
  if (group.targetsUnreachable) {
    group.targetsUnreachable = false;
    ctx.emit({ kind: 'targets_reachable', group: group.name });
  }
  ctx.emit({
    kind: 'probe_acked',
    group: group.name,
    ifname: pi.name,
    family: inst.family,
    method: inst.method,
    target: target.address,
    seq: reply.seq,
    rttMs: rtt,
    late,
  });
}

/** CRTT above the probe interval: drop an exceptionally slow target, or raise the group's FDT. */
function adaptFdt(inst: ProbeInstance, target: Target, ctx: EngineContext): void {
  const group = inst.phyint.group;
  if (target.rtt.crtt > group.probeIntervalMs) {
    if (isExceptionTarget(inst, target, group)) {
      targetSlow(inst, target, ctx);
      return;
    }
    group.setEffectiveFdt(Math.ceil(target.rtt.crtt * NEXT_FDT_MULTIPLE) * (NUM_PROBE_FAILS + 2));
    group.lastFdtRaiseAt = ctx.now;
    ctx.emit({
      kind: 'fdt_raised',
      group: group.name,
      ifname: inst.phyint.name,
      family: inst.family,
      fdtMs: group.fdtMs,
      configuredFdtMs: group.configuredFdtMs,
    });
    return;
  }
  maybeLowerFdt(inst, target, ctx);
}

function maybeLowerFdt(inst: ProbeInstance, target: Target, ctx: EngineContext): void {
  const group = inst.phyint.group;
  if (!(target.rtt.crtt < group.probeIntervalMs / LOWER_FDT_TRIGGER)) return;
  if (!(group.configuredFdtMs < group.fdtMs) || !(group.lastFdtRaiseAt + MIN_SETTLING_TIME_MS < ctx.now)) return;
  if (!groupRttImproved(group)) return;
  group.setEffectiveFdt(Math.max(Math.floor(group.fdtMs / NEXT_FDT_MULTIPLE), group.configuredFdtMs));
  if (group.fdtMs === group.configuredFdtMs) {
    for (const m of group.members) for (const i of m.instances) i.fdBase = i.sendBase;
  }
  ctx.emit({
    kind: 'fdt_lowered',
    group: group.name,
    ifname: inst.phyint.name,
    family: inst.family,
    fdtMs: group.fdtMs,
    configuredFdtMs: group.configuredFdtMs,
  });
}

/** Every probing, non-failed instance has all active targets' CRTT at most a quarter of the probe interval. */
function groupRttImproved(group: Group): boolean {
  for (const m of group.members) {
    if (m.status === 'failed') continue;
    for (const i of m.instances) {
      if (!i.probeCapable) continue;
      for (const t of i.targets.active) if (t.rtt.crtt > group.probeIntervalMs / LOWER_FDT_TRIGGER) return false;
    }
  }
  return true;
}

/** in.mpathd check_exception_target: enough targets, and every other one is fast. */
function isExceptionTarget(inst: ProbeInstance, target: Target, group: Group): boolean {
  if (inst.targets.activeCount < MIN_PROBE_TARGETS + 1) return false;
  return inst.targets.active.every((t) => t === target || t.rtt.crtt <= group.probeIntervalMs / EXCEPTION_FACTOR);
}
