// Interface and group state transitions: in.mpathd's
// phyint_transition_to_running, phyint_activate_another,
// phyint_standby_refresh_inactive and the group state refresh.

import type { EngineContext } from './context.js';
import type { Group, Phyint } from './model.js';
import { placeAddresses } from './placement.js';
import type { GroupState } from './types.js';

/** Clear INACTIVE on a functioning inactive member, preferring a standby. */
export function activateAnother(pi: Phyint): void {
  let chosen: Phyint | undefined;
  for (const other of pi.group.members) {
    if (other === pi || !other.functioning || !other.inactive) continue;
    chosen = other;
    if (other.standby) break;
  }
  if (chosen) chosen.setInactive(false);
}

/**
 * The interface works again (repaired, onlined, or first seen). Decide
 * whether it, or an active standby, ends up INACTIVE:
 * 1. a standby stays inactive while the group runs at capacity;
 * 2. a non-standby that is onlined, or repaired with FAILBACK on, becomes
 *    active and pushes an active standby back to inactive;
 * 3. a non-standby repaired with FAILBACK off waits inactive, unless the group
 *    had failed or this is its first start.
 */
export function transitionToRunning(pi: Phyint, ctx: EngineContext): void {
  const onlining = pi.status === 'offline';
  const initial = pi.status === 'init';
  const group = pi.group;
  let nactive = 0;
  let nnonstandby = 0;
  let activeStandby: Phyint | undefined;
  for (const m of group.members) {
    if (!m.standby) nnonstandby++;
    if (m.functioning && !m.inactive) {
      nactive++;
      if (m.standby) activeStandby = m;
    }
  }
  if (!onlining) pi.clearFailed();
  pi.setStatus('running', ctx.now); // leaves offline first: INACTIVE may be set only on an online member

  if (group.anonymous) {
    pi.setInactive(false); // nothing to hold, nothing to stand by for
  } else if (pi.standby) {
    pi.setInactive(nactive >= nnonstandby);
  } else if (onlining || ctx.settings.failback) {
    if (nactive >= nnonstandby && activeStandby) activeStandby.setInactive(true);
    pi.setInactive(false);
    if (!initial) group.failbackTo.set(pi.name, onlining ? 'admin' : 'failback');
  } else if (!initial && !group.failed) {
    pi.setInactive(true);
  } else {
    pi.setInactive(false);
  }
  refreshGroupState(group, ctx);
}

function computeGroupState(group: Group): GroupState {
  if (group.anonymous) return 'ok';
  const usable = group.members.filter((m) => m.usable).length;
  if (usable === 0) return 'failed';
  return usable === group.members.length ? 'ok' : 'degraded';
}

/**
 * Recompute the group state, say so when it changes, and place the data
 * addresses for the new situation. Entering failed flushes multicast-found
 * targets so discovery starts over (in.mpathd phyint_group_chstate).
 */
export function refreshGroupState(group: Group, ctx: EngineContext): void {
  const next = computeGroupState(group);
  const previous = group.state;
  if (next !== previous) {
    group.state = next;
    if (group.placing) {
      ctx.emit({ kind: 'group_state', group: group.name, from: previous, to: next });
      if (next === 'failed') {
        const cause = group.members.some((m) => m.failureCause === 'probe' && m.linkUp) ? 'probe' : 'link';
        ctx.emit({ kind: 'group_failed', group: group.name, cause });
      } else if (previous === 'failed') {
        const first = group.members.find((m) => m.usable);
        ctx.emit({ kind: 'group_usable', group: group.name, ifname: first?.name ?? '' });
      }
    }
    if (next === 'failed') flushHostTargets(group, ctx);
  }
  placeAddresses(group, ctx);
}

function flushHostTargets(group: Group, ctx: EngineContext): void {
  for (const m of group.members) {
    for (const inst of m.instances) {
      const hosts = inst.targets.hosts;
      if (hosts.length === 0) continue;
      for (const t of hosts) {
        inst.targets.remove(t);
        inst.ring.forgetTarget(t);
        ctx.emit({
          kind: 'target_removed',
          group: group.name,
          ifname: m.name,
          family: inst.family,
          target: t.address,
          source: t.source,
        });
      }
      if (inst.targets.activeCount > 0) continue;
      inst.ring.clear();
      if (m.status === 'running' || m.status === 'failed') m.setStatus('notargets', ctx.now);
    }
  }
}
