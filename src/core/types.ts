// What goes into the engine and what comes out of it.

import type { Cidr, Family, ProbeMethod } from '../config/types.js';
import type { TargetSource, TargetStatus } from './targets.js';

export type ProbeKind = 'uni' | 'rtt' | 'multi';

/** An echo reply the shell received and validated (identifier and nonce are ours). */
export interface ProbeReply {
  ifname: string;
  family: Family;
  source: string;
  seq: number;
  kind: ProbeKind;
  /** Send time carried in the payload, on the engine's clock (ms). */
  sentAt: number;
  /** Kernel/adapter receive time, on the engine's clock (ms). */
  receivedAt: number;
}

export interface LinkReport {
  ifname: string;
  /** The interface exists in the kernel. */
  present: boolean;
  /** Carrier (IFF_RUNNING / LOWER_UP) and administratively up. */
  up: boolean;
  mac?: string;
}

/** ipmpstat STATE / PROBE vocabularies. */
export type InterfaceState = 'ok' | 'failed' | 'offline' | 'unknown';
export type ProbeState = 'ok' | 'failed' | 'unknown' | 'disabled';
export type GroupState = 'ok' | 'degraded' | 'failed';
export type FailureCause = 'link' | 'probe';
/** Why an address moved: a failover cause, an admin action, a failback, or first placement. */
export type MoveReason = 'link' | 'probe' | 'admin' | 'failback' | 'placement';

export type EngineAction =
  | {
      kind: 'send_probe';
      group: string;
      ifname: string;
      family: Family;
      /** ICMP echo, or an ARP request (source 0.0.0.0). */
      method: ProbeMethod;
      source: string;
      target: string;
      seq: number;
      probeKind: ProbeKind;
    }
  | {
      kind: 'move_address';
      group: string;
      address: Cidr;
      from?: string;
      to: string;
      reason: MoveReason;
      decidedAt: number;
    }
  | { kind: 'remove_address'; group: string; address: Cidr; from: string };

/** Which probe an acked or lost event is about. */
interface ProbeIdentity {
  group: string;
  ifname: string;
  family: Family;
  method: ProbeMethod;
  target: string;
  seq: number;
}

export type EngineEvent =
  | { kind: 'interface_failed'; group: string; ifname: string; cause: FailureCause; firstFailureAt: number }
  | { kind: 'interface_repaired'; group: string; ifname: string }
  | { kind: 'group_failed'; group: string; cause: FailureCause }
  | { kind: 'group_usable'; group: string; ifname: string }
  | { kind: 'group_state'; group: string; from: GroupState; to: GroupState }
  | { kind: 'link_down' | 'link_up'; group: string; ifname: string }
  | { kind: 'interface_vanished' | 'interface_appeared'; group: string; ifname: string }
  | { kind: 'repair_deferred_flapping'; group: string; ifname: string }
  | {
      kind: 'fdt_raised' | 'fdt_lowered';
      group: string;
      ifname: string;
      family: Family;
      fdtMs: number;
      configuredFdtMs: number;
    }
  | { kind: 'probes_missed'; group: string; ifname: string; family: Family; count: number }
  | { kind: 'probing_disabled'; group: string; ifname: string; reason: 'no_test_address' }
  | {
      kind: 'target_added' | 'target_removed';
      group: string;
      ifname: string;
      family: Family;
      target: string;
      source: TargetSource;
    }
  | {
      kind: 'target_status';
      group: string;
      ifname: string;
      family: Family;
      target: string;
      status: TargetStatus;
      why: 'no_answer' | 'slow' | 'recovered';
    }
  | { kind: 'targets_unreachable' | 'targets_reachable'; group: string }
  | { kind: 'duplicate_mac'; group: string; ifname: string; mac: string; offlined: boolean }
  | { kind: 'offline' | 'online'; group: string; ifname: string }
  | ({ kind: 'probe_acked'; rttMs: number; late: boolean } & ProbeIdentity)
  | ({ kind: 'probe_lost' } & ProbeIdentity)
  | {
      kind: 'reply_ignored';
      ifname: string;
      reason: 'stale' | 'not_a_target' | 'duplicate' | 'link_down' | 'unknown_interface';
    };

export type EngineOutput = EngineAction | EngineEvent;
