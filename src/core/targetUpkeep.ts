// Keeping each instance's target list right: targets from routes, static
// targets, hosts found by multicast, dead and slow targets, and the
// NOTARGETS state that follows an empty list.

import type { Family } from '../config/types.js';
import { inSubnet } from './addressMath.js';
import { MAX_PROBE_TARGETS } from './constants.js';
import type { EngineContext } from './context.js';
import type { Phyint, ProbeInstance } from './model.js';
import { ARP_ANY_NEIGHBOUR } from './probeSources.js';
import { routerCandidates } from './routeTargets.js';
import type { Candidate, Target } from './targets.js';
import type { KernelRoute } from './route.js';

export function resetRtt(pi: Phyint): void {
  for (const inst of pi.instances) for (const t of inst.targets.all) t.rtt.reset();
}

function emitAdded(inst: ProbeInstance, t: Target, ctx: EngineContext): void {
  ctx.emit({
    kind: 'target_added',
    group: inst.phyint.group.name,
    ifname: inst.phyint.name,
    family: inst.family,
    target: t.address,
    source: t.source,
  });
}
function emitRemoved(inst: ProbeInstance, t: Target, ctx: EngineContext): void {
  inst.ring.forgetTarget(t);
  ctx.emit({
    kind: 'target_removed',
    group: inst.phyint.group.name,
    ifname: inst.phyint.name,
    family: inst.family,
    target: t.address,
    source: t.source,
  });
}

/** Add a target; an instance waiting for targets goes back to probing. */
function addTarget(inst: ProbeInstance, candidate: Candidate, ctx: EngineContext): Target | undefined {
  if (!inst.hasSource) return undefined;
  const { added, removed } = inst.targets.add(candidate, ctx.now);
  for (const t of removed) emitRemoved(inst, t, ctx);
  if (removed.length > 0) inst.ring.clear();
  if (!added) return undefined;
  emitAdded(inst, added, ctx);
  const pi = inst.phyint;
  if (pi.status === 'notargets') pi.setStatus(pi.failedFlag ? 'failed' : 'running', ctx.now);
  return added;
}

function deleteTarget(inst: ProbeInstance, target: Target, ctx: EngineContext): void {
  inst.targets.remove(target);
  emitRemoved(inst, target, ctx);
  inst.targets.recover(ctx.now); // a spare steps in
  afterTargetLoss(inst, ctx);
}

/** in.mpathd target_delete: an empty list clears the ring and may mean NOTARGETS. */
function afterTargetLoss(inst: ProbeInstance, ctx: EngineContext): void {
  if (inst.targets.activeCount > 0) return;
  inst.ring.clear();
  const pi = inst.phyint;
  const otherCanProbe = pi.instances.some((i) => i !== inst && i.probeCapable);
  if (!otherCanProbe && pi.linkUp && !pi.offline && (pi.status === 'running' || pi.status === 'failed')) {
    pi.setStatus('notargets', ctx.now);
  }
}

/** One target stayed silent while others answered (NUM_PROBE_FAILS to it alone). */
export function targetFailed(inst: ProbeInstance, target: Target, ctx: EngineContext): void {
  if (target.isRouterLike) {
    inst.targets.setStatus(target, 'dead', ctx.now);
    ctx.emit({
      kind: 'target_status',
      group: inst.phyint.group.name,
      ifname: inst.phyint.name,
      family: inst.family,
      target: target.address,
      status: 'dead',
      why: 'no_answer',
    });
    inst.targets.recover(ctx.now, inst.targets.activeCount === 0); // a spare takes its place at once
  } else {
    deleteTarget(inst, target, ctx);
    requestMulticast(inst, ctx);
  }
}

/** A target answers so slowly that only it keeps the group from its FDT. */
export function targetSlow(inst: ProbeInstance, target: Target, ctx: EngineContext): void {
  if (target.isRouterLike) {
    inst.targets.setStatus(target, 'slow', ctx.now);
    ctx.emit({
      kind: 'target_status',
      group: inst.phyint.group.name,
      ifname: inst.phyint.name,
      family: inst.family,
      target: target.address,
      status: 'slow',
      why: 'slow',
    });
  } else {
    deleteTarget(inst, target, ctx);
    requestMulticast(inst, ctx);
  }
}

/** Every target is silent on every member: drop them and look for new ones by multicast. */
export function startDiscovery(inst: ProbeInstance, ctx: EngineContext): void {
  for (const t of inst.targets.all.slice()) {
    if (t.isRouterLike) {
      if (t.status === 'active') {
        inst.targets.setStatus(t, 'dead', ctx.now);
        ctx.emit({
          kind: 'target_status',
          group: inst.phyint.group.name,
          ifname: inst.phyint.name,
          family: inst.family,
          target: t.address,
          status: 'dead',
          why: 'no_answer',
        });
      }
    } else {
      inst.targets.remove(t);
      emitRemoved(inst, t, ctx);
    }
  }
  afterTargetLoss(inst, ctx);
  requestMulticast(inst, ctx);
}

/**
 * Look for hosts to probe: an echo to all hosts (224.0.0.1, ff02::1), or for
 * ARP, which has no multicast, the hosts the kernel's neighbour table knows
 * on the link (the adapter answers with one 'multi' reply per host).
 */
export function requestMulticast(inst: ProbeInstance, ctx: EngineContext): void {
  if (!inst.hasSource) return;
  const pi = inst.phyint;
  ctx.emit({
    kind: 'send_probe',
    group: pi.group.name,
    ifname: pi.name,
    family: inst.family,
    method: inst.method,
    source: inst.sourceAddress,
    target: inst.method === 'arp' ? ARP_ANY_NEIGHBOUR : inst.family === 4 ? '224.0.0.1' : 'ff02::1',
    seq: inst.ring.snxt,
    probeKind: 'multi',
  });
}

/**
 * A host answered our all-hosts echo. Named groups share what one member
 * learnt with every member of the same family (subject to the subnet check).
 */
export function multicastReply(inst: ProbeInstance, source: string, ctx: EngineContext): void {
  if (inst.targets.hasActiveRouters || inst.targets.activeCount >= MAX_PROBE_TARGETS) return;
  if (source === '0.0.0.0' || source === '::' || ctx.ownAddresses.has(source)) return;
  // a router we gave up on answers the all-hosts echo: it is alive, probe it again now
  for (const m of inst.phyint.group.members) {
    const peer = m.instance(inst.family);
    const known = peer?.targets.find(source);
    if (peer && known && (known.status === 'dead' || known.status === 'slow')) {
      peer.targets.setStatus(known, 'active', ctx.now);
      ctx.emit({
        kind: 'target_status',
        group: m.group.name,
        ifname: m.name,
        family: peer.family,
        target: source,
        status: 'active',
        why: 'recovered',
      });
      if (m.status === 'notargets') m.setStatus(m.failedFlag ? 'failed' : 'running', ctx.now);
    }
  }
  for (const m of inst.phyint.group.members) {
    const peer = m.instance(inst.family);
    if (!peer?.hasSource || !sameSubnet(peer, source)) continue;
    addTarget(peer, { address: source, source: 'multicast' }, ctx);
  }
}

function sameSubnet(inst: ProbeInstance, address: string): boolean {
  if (inst.family === 6) return true; // IPv6 test addresses are link-local: anything on the link
  return inst.subnets.some((s) => inSubnet(address, s.address, s.prefixLength, 4));
}

/**
 * New routing table: routers become targets (first five active, the rest
 * spare); routers that vanished are dropped unless the group has failed
 * (they are kept so that repair can still be measured).
 */
export function applyRoutes(inst: ProbeInstance, routes: readonly KernelRoute[], ctx: EngineContext): void {
  if (!inst.hasSource) return;
  const view = { family: inst.family, device: inst.phyint.name, subnets: inst.subnets };
  const candidates = routerCandidates(routes, view, ctx.ownAddresses);
  const wanted = new Set(candidates.map((c) => c.address));
  if (!inst.phyint.group.failed) {
    for (const t of inst.targets.all.slice()) {
      if (t.isRouterLike && t.source !== 'static' && !wanted.has(t.address)) deleteTarget(inst, t, ctx);
    }
  }
  for (const c of candidates) addTarget(inst, c, ctx);
  if (candidates.length > 0)
    inst.targets.arrange(
      candidates.map((c) => c.address),
      ctx.now,
    );
}

export function applyStaticTargets(inst: ProbeInstance, addresses: readonly string[], ctx: EngineContext): void {
  for (const address of addresses) {
    if (familyOf(address) !== inst.family) continue;
    addTarget(inst, { address, source: 'static' }, ctx);
  }
}

function familyOf(address: string): Family {
  return address.includes(':') ? 6 : 4;
}
