// Metrics read from the engine's state at scrape time: one snapshot per
// scrape, so every series agrees with every other and with the engine at that
// instant. Series of devices and targets that are gone simply stop appearing.
//
// The families are one table (STATE_FAMILIES): name, help, type, what a series
// is about (its scope, which gives its labels) and how its value is read from
// the snapshot. StateFamilies renders the table straight into bytes.

import type { AddressView, EngineSnapshot, GroupView, InterfaceView, TargetView } from '../core/snapshot.js';
import { encode, escapeLabelValue, type ExpositionBuffer, LabelValues } from './exposition.js';

const INTERFACE_STATES = ['ok', 'failed', 'offline', 'unknown'] as const;
const PROBE_STATES = ['ok', 'failed', 'unknown', 'disabled'] as const;
const GROUP_STATES = ['ok', 'degraded', 'failed'] as const;

/** Converts the engine's monotonic milliseconds to Unix seconds. */
export type ToUnixSeconds = (monotonicMs: number) => number;

/** What one series is about, and the labels that say so (in this order). */
interface Scopes {
  target: { g: GroupView; i: InterfaceView; t: TargetView };
  interface: { g: GroupView; i: InterfaceView };
  group: { g: GroupView };
  address: { g: GroupView; a: AddressView };
  /** a data address and one member of its group */
  holder: { g: GroupView; a: AddressView; i: InterfaceView };
}
type Scope = keyof Scopes;

const SCOPE_LABELS: { [S in Scope]: ReadonlyArray<readonly [string, (row: Scopes[S]) => string]> } = {
  target: [
    ['group', (r) => r.g.name],
    ['device', (r) => r.i.name],
    ['target', (r) => r.t.address],
  ],
  interface: [
    ['group', (r) => r.g.name],
    ['device', (r) => r.i.name],
  ],
  group: [['group', (r) => r.g.name]],
  address: [
    ['group', (r) => r.g.name],
    ['ip_address', (r) => r.a.address.address],
  ],
  holder: [
    ['group', (r) => r.g.name],
    ['ip_address', (r) => r.a.address.address],
    ['device', (r) => r.i.name],
  ],
};

interface FamilySpec<S extends Scope> {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  scope: S;
  /** one series per row and per value of this label (a state set, a reason) */
  each?: { label: string; values: readonly string[] };
  /** labels after the scope's, read from the row (info metrics) */
  info?: { labels: readonly string[]; of: (row: Scopes[S]) => string[] };
  /** undefined: no series for this row */
  value: (row: Scopes[S], each: string) => number | undefined;
}

type AnyFamily = { [S in Scope]: FamilySpec<S> }[Scope];
const family = <S extends Scope>(f: FamilySpec<S>): AnyFamily => f as unknown as AnyFamily;

const ms = 1000;

/** Every family read from the snapshot, in exposition order. */
export function stateFamilyTable(toUnixSeconds: ToUnixSeconds): AnyFamily[] {
  const usable = (i: InterfaceView) => i.state === 'ok' || (i.state === 'unknown' && i.link === 'up');
  return [
    // probes
    family({
      name: 'ipmp_probe_requests_total',
      help: 'Failure-detection probes sent, per target.',
      type: 'counter',
      scope: 'target',
      value: ({ t }) => t.requests,
    }),
    family({
      name: 'ipmp_probe_timeouts_total',
      help: 'Probes declared lost (no reply within the conservative RTT).',
      type: 'counter',
      scope: 'target',
      value: ({ t }) => t.timeouts,
    }),
    family({
      name: 'ipmp_probe_duplicates_total',
      help: 'Duplicate echo replies.',
      type: 'counter',
      scope: 'target',
      value: ({ t }) => t.duplicates,
    }),
    family({
      name: 'ipmp_probe_send_errors_total',
      help: 'Probes the kernel refused to send.',
      type: 'counter',
      scope: 'target',
      value: ({ t }) => t.sendErrors,
    }),
    family({
      name: 'ipmp_probe_rtt_smoothed_seconds',
      help: 'Smoothed round-trip time of the target (ipmpstat RTTAVG).',
      type: 'gauge',
      scope: 'target',
      value: ({ t }) => t.rttAverageMs / ms,
    }),
    family({
      name: 'ipmp_probe_rtt_deviation_seconds',
      help: 'Mean deviation of the round-trip time (ipmpstat RTTDEV).',
      type: 'gauge',
      scope: 'target',
      value: ({ t }) => t.rttDeviationMs / ms,
    }),
    family({
      name: 'ipmp_probe_targets',
      help: 'Usable (active) probe targets; 0 means probe state unknown.',
      type: 'gauge',
      scope: 'interface',
      value: ({ i }) =>
        i.instances.reduce((n, inst) => n + inst.targets.filter((t) => t.status === 'active').length, 0),
    }),
    family({
      name: 'ipmp_probe_target_info',
      help: 'A probe target and where it came from.',
      type: 'gauge',
      scope: 'target',
      info: { labels: ['source', 'status'], of: ({ t }) => [t.source, t.status] },
      value: () => 1,
    }),
    // interfaces
    family({
      name: 'ipmp_interface_state',
      help: 'Interface state as ipmpstat -i shows it, one series per state.',
      type: 'gauge',
      scope: 'interface',
      each: { label: 'state', values: INTERFACE_STATES },
      value: ({ i }, st) => (i.state === st ? 1 : 0),
    }),
    family({
      name: 'ipmp_interface_probe_state',
      help: 'Probe-based detection state, one series per state.',
      type: 'gauge',
      scope: 'interface',
      each: { label: 'state', values: PROBE_STATES },
      value: ({ i }, st) => (i.probeState === st ? 1 : 0),
    }),
    family({
      name: 'ipmp_interface_failed',
      help: '1 if the interface is failed (IFF_FAILED).',
      type: 'gauge',
      scope: 'interface',
      value: ({ i }) => (i.failed ? 1 : 0),
    }),
    family({
      name: 'ipmp_interface_link_up',
      help: '1 if the interface has carrier.',
      type: 'gauge',
      scope: 'interface',
      value: ({ i }) => (i.link === 'up' ? 1 : 0),
    }),
    family({
      name: 'ipmp_interface_active',
      help: '1 if the interface may carry data addresses (ipmpstat ACTIVE).',
      type: 'gauge',
      scope: 'interface',
      value: ({ i }) => (i.active ? 1 : 0),
    }),
    family({
      name: 'ipmp_interface_info',
      help: 'Static facts about a group member.',
      type: 'gauge',
      scope: 'interface',
      info: {
        labels: ['standby', 'test_address'],
        of: ({ i }) => [
          String(i.standby),
          i.instances.flatMap((x) => (x.testAddress ? [x.testAddress] : [])).join(','),
        ],
      },
      value: () => 1,
    }),
    family({
      name: 'ipmp_interface_probe_loss_ratio',
      help: 'Lost / sent failure-detection probes over the last probe window (about one FDT and more).',
      type: 'gauge',
      scope: 'interface',
      value: ({ i }) => (i.instances.length > 0 ? Math.max(...i.instances.map((x) => x.lossRatio)) : undefined),
    }),
    family({
      name: 'ipmp_interface_failures_total',
      help: 'Interface failures detected, by how.',
      type: 'counter',
      scope: 'interface',
      each: { label: 'reason', values: ['link', 'probe'] },
      value: ({ i }, reason) => i.failures[reason as 'link' | 'probe'],
    }),
    family({
      name: 'ipmp_interface_repairs_total',
      help: 'Interface repairs detected.',
      type: 'counter',
      scope: 'interface',
      value: ({ i }) => i.repairs,
    }),
    family({
      name: 'ipmp_interface_last_change_timestamp_seconds',
      help: 'When the interface state last changed (Unix time).',
      type: 'gauge',
      scope: 'interface',
      value: ({ i }) => toUnixSeconds(i.lastChangeAt),
    }),
    // groups
    family({
      name: 'ipmp_group_state',
      help: 'Group state, one series per state.',
      type: 'gauge',
      scope: 'group',
      each: { label: 'state', values: GROUP_STATES },
      value: ({ g }, st) => (g.state === st ? 1 : 0),
    }),
    family({
      name: 'ipmp_group_interfaces',
      help: 'Member interfaces configured.',
      type: 'gauge',
      scope: 'group',
      value: ({ g }) => g.interfaces.length,
    }),
    family({
      name: 'ipmp_group_interfaces_usable',
      help: 'Member interfaces usable now.',
      type: 'gauge',
      scope: 'group',
      value: ({ g }) => g.interfaces.filter(usable).length,
    }),
    family({
      name: 'ipmp_group_failure_detection_time_seconds',
      help: 'Failure detection time: in effect, and as configured (differs when raised for slow targets).',
      type: 'gauge',
      scope: 'group',
      each: { label: 'kind', values: ['effective', 'configured'] },
      value: ({ g }, kind) => (kind === 'effective' ? g.fdtMs : g.configuredFdtMs) / ms,
    }),
    family({
      name: 'ipmp_group_probe_interval_seconds',
      help: 'Average spacing of failure-detection probes (FDT / 7).',
      type: 'gauge',
      scope: 'group',
      value: ({ g }) => g.probeIntervalMs / ms,
    }),
    family({
      name: 'ipmp_group_targets_unreachable',
      help: '1 when every member lost every target at once (reported instead of a group failure).',
      type: 'gauge',
      scope: 'group',
      value: ({ g }) => (g.targetsUnreachable ? 1 : 0),
    }),
    // addresses
    family({
      name: 'ipmp_address_holder',
      help: '1 on the interface holding the data address, 0 on every other member.',
      type: 'gauge',
      scope: 'holder',
      value: ({ a, i }) => (a.holder === i.name ? 1 : 0),
    }),
    family({
      name: 'ipmp_address_up',
      help: '1 if the data address is configured on a present interface.',
      type: 'gauge',
      scope: 'address',
      value: ({ a }) => (a.up ? 1 : 0),
    }),
  ];
}

/** A row of any scope: the walk refills one of these. */
type Row = Scopes['target'] & Scopes['holder'];

/** A family ready to write: its byte pieces encoded once. */
interface Prepared {
  spec: AnyFamily;
  header: Buffer;
  /** `name{group="`, `",device="`, ...: one before each scope label value */
  lead: Buffer[];
  /** per `each` value: `",state="ok` (or the info labels' names, `",source="`, ...) */
  tail: Buffer[];
}

const CLOSE = encode('"} ');

/**
 * The state families rendered from one snapshot. (prom-client gauges refilled at
 * every scrape cost a hash per series to set and a label set per series to
 * format: most of a 64-NIC scrape's 50 ms.)
 */
export class StateFamilies {
  private readonly families: Prepared[];
  private readonly values = new LabelValues();
  private readonly row = {} as Row;
  private readonly labels: Buffer[] = [];

  constructor(table: AnyFamily[]) {
    this.families = table.map((spec) => {
      const names = SCOPE_LABELS[spec.scope].map(([n]) => n);
      return {
        spec,
        header: encode(`# HELP ${spec.name} ${spec.help}\n# TYPE ${spec.name} ${spec.type}\n`),
        lead: names.map((n, k) => encode(`${k === 0 ? `${spec.name}{` : '",'}${n}="`)),
        tail: spec.each
          ? spec.each.values.map((v) => encode(`",${spec.each!.label}="${escapeLabelValue(v)}`))
          : (spec.info?.labels ?? []).map((n) => encode(`",${n}="`)),
      };
    });
  }

  /**
   * Calls `line` for each row of `scope` in the snapshot, with the row's escaped
   * label values. One row object and one label array, refilled: a scrape builds no
   * row objects.
   */
  private walk(scope: Scope, s: EngineSnapshot, line: (row: Row, labels: Buffer[]) => void): void {
    const row = this.row;
    const labels = this.labels;
    const v = this.values;
    for (const g of s.groups) {
      row.g = g;
      labels[0] = v.get(g.name);
      if (scope === 'group') {
        labels.length = 1;
        line(row, labels);
      } else if (scope === 'interface' || scope === 'target') {
        for (const i of g.interfaces) {
          row.i = i;
          labels[1] = v.get(i.name);
          if (scope === 'interface') {
            labels.length = 2;
            line(row, labels);
            continue;
          }
          for (const inst of i.instances)
            for (const t of inst.targets) {
              row.t = t;
              labels[2] = v.get(t.address);
              line(row, labels);
            }
        }
      } else {
        for (const a of g.addresses) {
          row.a = a;
          labels[1] = v.get(a.address.address);
          if (scope === 'address') {
            labels.length = 2;
            line(row, labels);
            continue;
          }
          for (const i of g.interfaces) {
            row.i = i;
            labels[2] = v.get(i.name);
            line(row, labels);
          }
        }
      }
    }
  }

  render(s: EngineSnapshot, out: ExpositionBuffer): void {
    for (const f of this.families) {
      out.bytes(f.header);
      const value = f.spec.value as (row: Row, each: string) => number | undefined;
      const each = f.spec.each?.values;
      const info = f.spec.info?.of as ((row: Row) => string[]) | undefined;
      this.walk(f.spec.scope, s, (row, labels) => {
        if (each) {
          for (let k = 0; k < each.length; k++) {
            const x = value(row, each[k]!);
            if (x === undefined) continue;
            this.lead(out, f, labels);
            out.bytes(f.tail[k]!);
            this.end(out, x);
          }
          return;
        }
        const x = value(row, '');
        if (x === undefined) return;
        this.lead(out, f, labels);
        if (info) {
          const extra = info(row);
          for (let k = 0; k < extra.length; k++) {
            out.bytes(f.tail[k]!);
            out.bytes(this.values.get(extra[k]!));
          }
        }
        this.end(out, x);
      });
    }
  }

  private lead(out: ExpositionBuffer, f: Prepared, labels: Buffer[]): void {
    for (let k = 0; k < labels.length; k++) {
      out.bytes(f.lead[k]!);
      out.bytes(labels[k]!);
    }
  }

  private end(out: ExpositionBuffer, x: number): void {
    out.bytes(CLOSE);
    out.number(x);
    out.newline();
  }
}
