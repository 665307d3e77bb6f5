// Metrics read from the engine's state at scrape time: one snapshot per
// scrape, so every series agrees with every other and with the engine at that
// instant. Series of devices and targets that are gone simply stop appearing.

import type { EngineSnapshot } from '../core/snapshot.js';
import { ChunkWriter, escapeLabelValue, valueText } from './exposition.js';

const INTERFACE_STATES = ['ok', 'failed', 'offline', 'unknown'] as const;
const PROBE_STATES = ['ok', 'failed', 'unknown', 'disabled'] as const;
const GROUP_STATES = ['ok', 'degraded', 'failed'] as const;

type Fill<L extends string> = (s: EngineSnapshot, set: (labels: Record<L, string>, value: number) => void) => void;

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labelNames: readonly string[];
  fill: Fill<string>;
}

/**
 * The state families, rendered straight to text from one snapshot. (prom-client
 * gauges refilled at every scrape cost a hash per series to set and a label set
 * per series to format: most of a 64-NIC scrape's 50 ms.)
 */
export class StateFamilies {
  private readonly families: Family[] = [];

  add<L extends string>(
    type: Family['type'],
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: Fill<L>,
  ): void {
    this.families.push({ type, name, help, labelNames, fill: fill as Fill<string> });
  }

  render(s: EngineSnapshot): Buffer {
    const out = new ChunkWriter();
    for (const f of this.families) {
      out.write(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`);
      // a label set given twice: a gauge keeps the last value, a counter adds (as prom-client did)
      const values = new Map<string, number>();
      f.fill(s, (labels, value) => {
        const text = f.labelNames.map((n) => `${n}="${escapeLabelValue(labels[n] ?? '')}"`).join(',');
        values.set(text, f.type === 'counter' ? (values.get(text) ?? 0) + value : value);
      });
      for (const [text, value] of values) out.write(`${f.name}${text ? `{${text}}` : ''} ${valueText(value)}\n`);
    }
    return out.done();
  }
}

/** A gauge whose every series is rebuilt from the snapshot at each scrape. */
function gauge<L extends string>(
  families: StateFamilies,
  name: string,
  help: string,
  labelNames: readonly L[],
  fill: Fill<L>,
): void {
  families.add('gauge', name, help, labelNames, fill);
}

/** A counter whose totals live in the engine (monotonic there), copied at scrape. */
function counter<L extends string>(
  families: StateFamilies,
  name: string,
  help: string,
  labelNames: readonly L[],
  fill: Fill<L>,
): void {
  families.add('counter', name, help, labelNames, fill);
}

function* targets(s: EngineSnapshot) {
  for (const g of s.groups)
    for (const i of g.interfaces)
      for (const inst of i.instances) for (const t of inst.targets) yield { group: g.name, device: i.name, inst, t };
}
function* interfaces(s: EngineSnapshot) {
  for (const g of s.groups) for (const i of g.interfaces) yield { group: g.name, i };
}

/** Converts the engine's monotonic milliseconds to Unix seconds. */
export type ToUnixSeconds = (monotonicMs: number) => number;

export function registerStateMetrics(families: StateFamilies, toUnixSeconds: ToUnixSeconds): void {
  const ms = 1000;
  // probes
  counter(
    families,
    'ipmp_probe_requests_total',
    'Failure-detection probes sent, per target.',
    ['group', 'device', 'target'],
    (s, set) => {
      for (const { group, device, t } of targets(s)) set({ group, device, target: t.address }, t.requests);
    },
  );
  counter(
    families,
    'ipmp_probe_timeouts_total',
    'Probes declared lost (no reply within the conservative RTT).',
    ['group', 'device', 'target'],
    (s, set) => {
      for (const { group, device, t } of targets(s)) set({ group, device, target: t.address }, t.timeouts);
    },
  );
  counter(
    families,
    'ipmp_probe_duplicates_total',
    'Duplicate echo replies.',
    ['group', 'device', 'target'],
    (s, set) => {
      for (const { group, device, t } of targets(s)) set({ group, device, target: t.address }, t.duplicates);
    },
  );
  counter(
    families,
    'ipmp_probe_send_errors_total',
    'Probes the kernel refused to send.',
    ['group', 'device', 'target'],
    (s, set) => {
      for (const { group, device, t } of targets(s)) set({ group, device, target: t.address }, t.sendErrors);
    },
  );
  gauge(
    families,
    'ipmp_probe_rtt_smoothed_seconds',
    'Smoothed round-trip time of the target (ipmpstat RTTAVG).',
    ['group', 'device', 'target'],
    (s, set) => {
      for (const { group, device, t } of targets(s)) set({ group, device, target: t.address }, t.rttAverageMs / ms);
    },
  );
  gauge(
    families,
    'ipmp_probe_rtt_deviation_seconds',
    'Mean deviation of the round-trip time (ipmpstat RTTDEV).',
    ['group', 'device', 'target'],
    (s, set) => {
      for (const { group, device, t } of targets(s)) set({ group, device, target: t.address }, t.rttDeviationMs / ms);
    },
  );
  gauge(
    families,
    'ipmp_probe_targets',
    'Usable (active) probe targets; 0 means probe state unknown.',
    ['group', 'device'],
    (s, set) => {
      for (const { group, i } of interfaces(s))
        set(
          { group, device: i.name },
          i.instances.reduce((n, inst) => n + inst.targets.filter((t) => t.status === 'active').length, 0),
        );
    },
  );
  gauge(
    families,
    'ipmp_probe_target_info',
    'A probe target and where it came from.',
    ['group', 'device', 'target', 'source', 'status'],
    (s, set) => {
      for (const { group, device, t } of targets(s))
        set({ group, device, target: t.address, source: t.source, status: t.status }, 1);
    },
  );
  // interfaces
  gauge(
    families,
    'ipmp_interface_state',
    'Interface state as ipmpstat -i shows it, one series per state.',
    ['group', 'device', 'state'],
    (s, set) => {
      for (const { group, i } of interfaces(s))
        for (const st of INTERFACE_STATES) set({ group, device: i.name, state: st }, i.state === st ? 1 : 0);
    },
  );
  gauge(
    families,
    'ipmp_interface_probe_state',
    'Probe-based detection state, one series per state.',
    ['group', 'device', 'state'],
    (s, set) => {
      for (const { group, i } of interfaces(s))
        for (const st of PROBE_STATES) set({ group, device: i.name, state: st }, i.probeState === st ? 1 : 0);
    },
  );
  gauge(
    families,
    'ipmp_interface_failed',
    '1 if the interface is failed (IFF_FAILED).',
    ['group', 'device'],
    (s, set) => {
      for (const { group, i } of interfaces(s)) set({ group, device: i.name }, i.failed ? 1 : 0);
    },
  );
  gauge(families, 'ipmp_interface_link_up', '1 if the interface has carrier.', ['group', 'device'], (s, set) => {
    for (const { group, i } of interfaces(s)) set({ group, device: i.name }, i.link === 'up' ? 1 : 0);
  });
  gauge(
    families,
    'ipmp_interface_active',
    '1 if the interface may carry data addresses (ipmpstat ACTIVE).',
    ['group', 'device'],
    (s, set) => {
      for (const { group, i } of interfaces(s)) set({ group, device: i.name }, i.active ? 1 : 0);
    },
  );
  gauge(
    families,
    'ipmp_interface_info',
    'Static facts about a group member.',
    ['group', 'device', 'standby', 'test_address'],
    (s, set) => {
      for (const { group, i } of interfaces(s))
        set(
          {
            group,
            device: i.name,
            standby: String(i.standby),
            test_address: i.instances.flatMap((x) => (x.testAddress ? [x.testAddress] : [])).join(','),
          },
          1,
        );
    },
  );
  gauge(
    families,
    'ipmp_interface_probe_loss_ratio',
    'Lost / sent failure-detection probes over the last probe window (about one FDT and more).',
    ['group', 'device'],
    (s, set) => {
      for (const { group, i } of interfaces(s))
        if (i.instances.length > 0) set({ group, device: i.name }, Math.max(...i.instances.map((x) => x.lossRatio)));
    },
  );
  counter(
    families,
    'ipmp_interface_failures_total',
    'Interface failures detected, by how.',
    ['group', 'device', 'reason'],
    (s, set) => {
      for (const { group, i } of interfaces(s)) {
        set({ group, device: i.name, reason: 'link' }, i.failures.link);
        set({ group, device: i.name, reason: 'probe' }, i.failures.probe);
      }
    },
  );
  counter(families, 'ipmp_interface_repairs_total', 'Interface repairs detected.', ['group', 'device'], (s, set) => {
    for (const { group, i } of interfaces(s)) set({ group, device: i.name }, i.repairs);
  });
  gauge(
    families,
    'ipmp_interface_last_change_timestamp_seconds',
    'When the interface state last changed (Unix time).',
    ['group', 'device'],
    (s, set) => {
      for (const { group, i } of interfaces(s)) set({ group, device: i.name }, toUnixSeconds(i.lastChangeAt));
    },
  );
  // groups
  gauge(families, 'ipmp_group_state', 'Group state, one series per state.', ['group', 'state'], (s, set) => {
    for (const g of s.groups) for (const st of GROUP_STATES) set({ group: g.name, state: st }, g.state === st ? 1 : 0);
  });
  gauge(families, 'ipmp_group_interfaces', 'Member interfaces configured.', ['group'], (s, set) => {
    for (const g of s.groups) set({ group: g.name }, g.interfaces.length);
  });
  gauge(families, 'ipmp_group_interfaces_usable', 'Member interfaces usable now.', ['group'], (s, set) => {
    for (const g of s.groups)
      set(
        { group: g.name },
        g.interfaces.filter((i) => i.state === 'ok' || (i.state === 'unknown' && i.link === 'up')).length,
      );
  });
  gauge(
    families,
    'ipmp_group_failure_detection_time_seconds',
    'Failure detection time: in effect, and as configured (differs when raised for slow targets).',
    ['group', 'kind'],
    (s, set) => {
      for (const g of s.groups) {
        set({ group: g.name, kind: 'effective' }, g.fdtMs / ms);
        set({ group: g.name, kind: 'configured' }, g.configuredFdtMs / ms);
      }
    },
  );
  gauge(
    families,
    'ipmp_group_probe_interval_seconds',
    'Average spacing of failure-detection probes (FDT / 7).',
    ['group'],
    (s, set) => {
      for (const g of s.groups) set({ group: g.name }, g.probeIntervalMs / ms);
    },
  );
  gauge(
    families,
    'ipmp_group_targets_unreachable',
    '1 when every member lost every target at once (reported instead of a group failure).',
    ['group'],
    (s, set) => {
      for (const g of s.groups) set({ group: g.name }, g.targetsUnreachable ? 1 : 0);
    },
  );
  // addresses
  gauge(
    families,
    'ipmp_address_holder',
    '1 on the interface holding the data address, 0 on every other member.',
    ['group', 'ip_address', 'device'],
    (s, set) => {
      for (const g of s.groups)
        for (const a of g.addresses)
          for (const i of g.interfaces)
            set({ group: g.name, ip_address: a.address.address, device: i.name }, a.holder === i.name ? 1 : 0);
    },
  );
  gauge(
    families,
    'ipmp_address_up',
    '1 if the data address is configured on a present interface.',
    ['group', 'ip_address'],
    (s, set) => {
      for (const g of s.groups)
        for (const a of g.addresses) set({ group: g.name, ip_address: a.address.address }, a.up ? 1 : 0);
    },
  );
}
