// A plain, read-only picture of the engine's state at one instant: what the
// exporter, the status API and `ipmpd stat` show.

import type { Cidr, Family, ProbeMethod } from '../config/types.js';
import type { Group } from './model.js';
import type { TargetCounters, TargetSource, TargetStatus } from './targets.js';
import type { GroupState, InterfaceState, ProbeState } from './types.js';

/** A target with its counters (requests, replies, timeouts, duplicates, send errors) alongside. */
export interface TargetView extends TargetCounters {
  address: string;
  source: TargetSource;
  status: TargetStatus;
  rttAverageMs: number;
  rttDeviationMs: number;
  crttMs: number;
}

export interface InstanceView {
  family: Family;
  /** ICMP echo from the test address, or ARP from 0.0.0.0. */
  method: ProbeMethod;
  /** Absent for ARP, which needs none. */
  testAddress?: string;
  /** ipmpstat -t MODE. */
  mode: 'routes' | 'multicast' | 'static';
  targets: TargetView[];
  /** Lost / (lost + answered) over the probe ring (about the last failure-detection window). */
  lossRatio: number;
}

export interface InterfaceView {
  name: string;
  group: string;
  state: InterfaceState;
  probeState: ProbeState;
  link: 'up' | 'down';
  present: boolean;
  active: boolean;
  standby: boolean;
  inactive: boolean;
  duplicateMac: boolean;
  failed: boolean;
  failureCause?: 'link' | 'probe';
  lastChangeAt: number;
  failures: { link: number; probe: number };
  repairs: number;
  instances: InstanceView[];
}

export interface AddressView {
  address: Cidr;
  group: string;
  holder?: string;
  home?: string;
  up: boolean;
  moving: boolean;
}

export interface GroupView {
  name: string;
  /** in.mpathd's anonymous group: NICs in no group, watched only. */
  anonymous: boolean;
  state: GroupState;
  fdtMs: number;
  configuredFdtMs: number;
  probeIntervalMs: number;
  targetsUnreachable: boolean;
  interfaces: InterfaceView[];
  addresses: AddressView[];
}

export interface EngineSnapshot {
  at: number;
  groups: GroupView[];
}

export function buildSnapshot(groups: readonly Group[], at: number): EngineSnapshot {
  return {
    at,
    groups: groups.map((g) => ({
      name: g.name,
      anonymous: g.anonymous,
      state: g.state,
      fdtMs: g.fdtMs,
      configuredFdtMs: g.configuredFdtMs,
      probeIntervalMs: g.probeIntervalMs,
      targetsUnreachable: g.targetsUnreachable,
      interfaces: g.members.map((m) => ({
        name: m.name,
        group: g.name,
        state: m.interfaceState,
        probeState: m.probeState,
        link: m.linkUp ? 'up' : 'down',
        present: m.present,
        active: m.active,
        standby: m.standby,
        inactive: m.inactive,
        duplicateMac: m.duplicateMac,
        failed: m.failedFlag,
        failureCause: m.failureCause,
        lastChangeAt: m.lastChangeAt,
        failures: { link: m.counters.linkFailures, probe: m.counters.probeFailures },
        repairs: m.counters.repairs,
        instances: m.instances
          .filter((i) => i.hasSource)
          .map((i) => {
            const { acked, lost } = i.ring.counts();
            return {
              family: i.family,
              method: i.method,
              ...(i.testAddress ? { testAddress: i.testAddress.address } : {}),
              mode: g.staticTargets.length > 0 ? 'static' : i.targets.hasActiveRouters ? 'routes' : 'multicast',
              lossRatio: acked + lost === 0 ? 0 : lost / (acked + lost),
              targets: i.targets.all.map((t) => ({
                address: t.address,
                source: t.source,
                status: t.status,
                rttAverageMs: t.rtt.average,
                rttDeviationMs: t.rtt.deviation,
                crttMs: t.rtt.crtt,
                ...t.counters,
              })),
            } satisfies InstanceView;
          }),
      })),
      addresses: g.addresses.map((a) => ({
        address: a.address,
        group: g.name,
        holder: a.holder,
        home: a.home,
        up: a.holder !== undefined && (g.member(a.holder)?.present ?? false),
        moving: a.moveInFlight,
      })),
    })),
  };
}
