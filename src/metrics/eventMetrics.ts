// Metrics fed by events as they happen: the RTT histogram, failovers and
// their timing, announcements sent, packets ignored, config reloads.

import { DEFAULT_METRICS, RTT_BUCKET_PRESETS } from '../config/metrics.js';
import type { MetricsConfig } from '../config/types.js';
import type { EngineOutput } from '../core/types.js';
import type { ExpositionBuffer } from './exposition.js';
import { type Family, TextMetric } from './textFamilies.js';
import { TextHistogram } from './textHistogram.js';

/** The default layout: 50 µs doubling to ~26 s, resolving both LAN and WAN round trips (as smokeping_prober). */
export const RTT_BUCKETS: readonly number[] = RTT_BUCKET_PRESETS.fine;
/** 100 µs to 1 s: a late timer means late probes, and late enough ones look like loss. */
const LATENESS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const FAILOVER_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const FAILOVER_REASONS = ['link', 'probe', 'admin', 'failback'] as const;
const IGNORED_REASONS = [
  'malformed',
  'foreign_identifier',
  'stale',
  'not_a_target',
  'duplicate',
  'link_down',
  'unknown_interface',
] as const;
export type IgnoredReason = (typeof IGNORED_REASONS)[number];
/** The steps of a move that can fail (label `stage`). */
const FAILOVER_STAGES = ['address_add', 'address_del', 'route', 'arp', 'na'] as const;
export type FailoverStage = (typeof FAILOVER_STAGES)[number];

export class EventMetrics {
  /** rendered by the exporter after the engine-state families (see textHistogram.ts for why) */
  readonly rtt = new RttHistogram();
  private readonly failovers = new TextMetric<'group' | 'reason'>(
    'ipmp_failovers_total',
    'Data address moves, by cause.',
    'counter',
    ['group', 'reason'],
  );
  private readonly failoverErrors = new TextMetric<'group' | 'stage'>(
    'ipmp_failover_errors_total',
    'Failover steps that failed, by stage.',
    'counter',
    ['group', 'stage'],
  );
  private readonly failoverDuration = new TextHistogram<'group'>(
    'ipmp_failover_duration_seconds',
    'From the decision to move to the address moved and the first announcement sent.',
    ['group'],
    FAILOVER_BUCKETS,
    true,
  );
  private readonly declaredGroups = new Set<string>();
  private readonly lastFailover = new TextMetric<'group'>(
    'ipmp_last_failover_timestamp_seconds',
    'When a data address last moved (Unix time).',
    'gauge',
    ['group'],
  );
  private readonly garp = new TextMetric<'group' | 'device'>(
    'ipmp_gratuitous_arp_sent_total',
    'Gratuitous ARP packets actually sent.',
    'counter',
    ['group', 'device'],
  );
  private readonly na = new TextMetric<'group' | 'device'>(
    'ipmp_unsolicited_na_sent_total',
    'Unsolicited neighbour advertisements actually sent.',
    'counter',
    ['group', 'device'],
  );
  private readonly routesMoved = new TextMetric<'group' | 'protocol'>(
    'ipmp_routes_moved_total',
    "Routes ipmpd rewrote onto the new holder of a data address, by origin (a routing daemon's are never moved).",
    'counter',
    ['group', 'protocol'],
  );
  private readonly ignored = new TextMetric<'reason'>(
    'ipmp_probe_ignored_packets_total',
    'Probe replies (ICMP, or ARP for probe_method: arp) received and ignored, by why.',
    'counter',
    ['reason'],
  );
  /** observed at every scheduler wake-up: rendered by the exporter, like rtt */
  readonly lateness = new TextHistogram<never>(
    'ipmp_scheduler_lateness_seconds',
    'How late the probe scheduler woke after its deadline (event-loop delay as probing sees it).',
    [],
    LATENESS_BUCKETS,
  );
  private readonly reloadOk = new TextMetric<never>(
    'ipmp_config_last_reload_successful',
    'Whether the last configuration load succeeded.',
    'gauge',
    [],
  );
  private readonly reloadTimestamp = new TextMetric<never>(
    'ipmp_config_last_reload_success_timestamp_seconds',
    'When the configuration was last loaded successfully (Unix time).',
    'gauge',
    [],
  );
  /** The families written in the registry's layout, in this order (once prom-client's, kept for the diff). */
  readonly families: readonly Family[] = [
    this.failovers,
    this.failoverErrors,
    this.failoverDuration,
    this.lastFailover,
    this.garp,
    this.na,
    this.routesMoved,
    this.ignored,
    this.reloadOk,
    this.reloadTimestamp,
  ];

  constructor() {
    this.lateness.zero({});
    for (const reason of IGNORED_REASONS) this.ignored.inc({ reason }, 0);
  }

  /** Pre-create every series of a group so they exist at zero from the start. */
  declareGroup(group: string, devices: string[]): void {
    for (const reason of FAILOVER_REASONS) this.failovers.inc({ group, reason }, 0);
    for (const stage of FAILOVER_STAGES) this.failoverErrors.inc({ group, stage }, 0);
    // zero() resets a histogram that exists: a reload declares its groups again
    if (!this.declaredGroups.has(group)) this.failoverDuration.zero({ group });
    this.declaredGroups.add(group);
    for (const device of devices) {
      this.garp.inc({ group, device }, 0);
      this.na.inc({ group, device }, 0);
    }
  }

  onEngineOutput(o: EngineOutput): void {
    if (o.kind === 'probe_acked') this.rtt.observe(o.group, o.ifname, o.target, o.rttMs / 1000);
    else if (o.kind === 'target_removed') this.rtt.targetRemoved(o.group, o.ifname, o.target);
    else if (o.kind === 'target_added') this.rtt.targetAdded(o.group, o.ifname, o.target);
    else if (o.kind === 'reply_ignored') this.ignored.inc({ reason: o.reason });
  }

  timerLateness(seconds: number): void {
    this.lateness.observe({}, Math.max(0, seconds));
  }

  ignoredPacket(reason: IgnoredReason): void {
    this.ignored.inc({ reason });
  }

  failoverDone(group: string, reason: string, seconds: number, unixSeconds: number): void {
    if ((FAILOVER_REASONS as readonly string[]).includes(reason)) {
      this.failovers.inc({ group, reason });
      this.failoverDuration.observe({ group }, seconds);
      this.lastFailover.set({ group }, unixSeconds);
    }
  }

  failoverError(group: string, stage: FailoverStage): void {
    this.failoverErrors.inc({ group, stage });
  }

  routesMovedBy(group: string, protocol: string, count: number): void {
    this.routesMoved.inc({ group, protocol }, count);
  }

  announcementsSent(group: string, device: string, family: 4 | 6, packets: number): void {
    (family === 4 ? this.garp : this.na).inc({ group, device }, packets);
  }

  configLoaded(ok: boolean, unixSeconds: number): void {
    this.reloadOk.set({}, ok ? 1 : 0);
    if (ok) this.reloadTimestamp.set({}, unixSeconds);
  }
}

type RttSettings = MetricsConfig['rttHistogram'];

/**
 * ipmp_probe_rtt_seconds at the configured granularity: per target (group,
 * device, target), per interface (group, device: every target's round trips
 * together) or not at all; the buckets as configured.
 */
class RttHistogram {
  private settings: RttSettings = DEFAULT_METRICS.rttHistogram;
  private byTarget: TextHistogram<'group' | 'device' | 'target'> | undefined;
  private byInterface: TextHistogram<'group' | 'device'> | undefined;

  constructor() {
    this.configure(this.settings);
  }

  /** A changed setting starts the histogram over (a counter reset to Prometheus); an unchanged one keeps it. */
  configure(settings: RttSettings): void {
    const same =
      (this.byTarget || this.byInterface || this.settings.granularity === 'off') &&
      settings.granularity === this.settings.granularity &&
      settings.buckets.length === this.settings.buckets.length &&
      settings.buckets.every((b, i) => b === this.settings.buckets[i]);
    if (same) return;
    const previous = this.byTarget ?? this.byInterface;
    this.settings = settings;
    this.byTarget = undefined;
    this.byInterface = undefined;
    const name = 'ipmp_probe_rtt_seconds';
    const help = 'Round-trip time of answered probes.';
    if (settings.granularity === 'target')
      this.byTarget = new TextHistogram(name, help, ['group', 'device', 'target'], settings.buckets);
    else if (settings.granularity === 'interface')
      this.byInterface = new TextHistogram(name, help, ['group', 'device'], settings.buckets);
    // the series there were, at zero in the new layout
    for (const [group, device, target] of previous?.labelSets() ?? []) {
      if (this.byTarget && target !== undefined) this.byTarget.zero({ group: group!, device: device!, target });
      this.byInterface?.zero({ group: group!, device: device! });
    }
  }

  observe(group: string, device: string, target: string, seconds: number): void {
    if (this.byTarget) this.byTarget.observe({ group, device, target }, seconds);
    else this.byInterface?.observe({ group, device }, seconds);
  }

  targetAdded(group: string, device: string, target: string): void {
    if (this.byTarget) this.byTarget.zero({ group, device, target });
    else this.byInterface?.zero({ group, device });
  }

  /** Per interface, the series stays: the interface's other targets, or its next ones, go on in it. */
  targetRemoved(group: string, device: string, target: string): void {
    this.byTarget?.remove({ group, device, target });
  }

  /** After a reload: drop the series of interfaces no longer in a group. */
  retain(keep: (group: string, device: string) => boolean): void {
    for (const labels of [...(this.byTarget?.labelSets() ?? [])])
      if (!keep(labels[0]!, labels[1]!))
        this.byTarget!.remove({ group: labels[0]!, device: labels[1]!, target: labels[2]! });
    for (const labels of [...(this.byInterface?.labelSets() ?? [])])
      if (!keep(labels[0]!, labels[1]!)) this.byInterface!.remove({ group: labels[0]!, device: labels[1]! });
  }

  render(out: ExpositionBuffer): void {
    (this.byTarget ?? this.byInterface)?.render(out);
  }
}
