// What a hook or webhook is told: one event, as environment variables and as
// one JSON object (the same fields, lower case, without the IPMP_ prefix).

import type { HookEventName } from '../config/types.js';
import type { EngineEvent, GroupState, MoveReason } from '../core/types.js';

export interface HookEvent {
  event: HookEventName;
  group: string;
  /** The NIC concerned; for address_moved the new holder. */
  interface?: string;
  /** address_moved: the address, without prefix length. */
  address?: string;
  from?: string;
  to?: string;
  /** link, probe, admin, failback (placement: an address's first placement, at start). */
  reason?: MoveReason;
  /** group_state: the group's new state; interface events: the interface's. */
  state?: GroupState | 'failed' | 'ok';
  /** RFC 3339, UTC. */
  timestamp: string;
}

/** The engine events hooks hear of (address_moved comes from the executor, after the kernel change). */
export function fromEngineEvent(
  e: EngineEvent,
  timestamp: string,
  probing: (ifname: string) => boolean,
): HookEvent | undefined {
  switch (e.kind) {
    case 'interface_failed':
      return {
        event: 'interface_failed',
        group: e.group,
        interface: e.ifname,
        reason: e.cause,
        state: 'failed',
        timestamp,
      };
    case 'interface_repaired':
      // repaired by answered probes, or (link-only member) by its link
      return {
        event: 'interface_repaired',
        group: e.group,
        interface: e.ifname,
        reason: probing(e.ifname) ? 'probe' : 'link',
        state: 'ok',
        timestamp,
      };
    case 'group_state':
      return { event: 'group_state', group: e.group, state: e.to, timestamp };
    default:
      return undefined;
  }
}

export function addressMoved(
  m: { group: string; address: { address: string }; from?: string | undefined; to: string; reason: MoveReason },
  timestamp: string,
): HookEvent {
  return {
    event: 'address_moved',
    group: m.group,
    interface: m.to,
    address: m.address.address,
    ...(m.from ? { from: m.from } : {}),
    to: m.to,
    reason: m.reason,
    timestamp,
  };
}

const ENV_NAMES: Array<[keyof HookEvent, string]> = [
  ['event', 'IPMP_EVENT'],
  ['group', 'IPMP_GROUP'],
  ['interface', 'IPMP_INTERFACE'],
  ['address', 'IPMP_ADDRESS'],
  ['from', 'IPMP_FROM'],
  ['to', 'IPMP_TO'],
  ['reason', 'IPMP_REASON'],
  ['state', 'IPMP_STATE'],
  ['timestamp', 'IPMP_TIMESTAMP'],
];

/** The hook's environment: ipmpd's own (PATH and the like) without any IPMP_ variable, plus the event's. */
export function hookEnvironment(e: HookEvent, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('IPMP_')) env[k] = v;
  for (const [field, name] of ENV_NAMES) {
    const v = e[field];
    if (v !== undefined) env[name] = v;
  }
  return env;
}
