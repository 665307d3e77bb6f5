// Metrics fed by events as they happen: the RTT histogram, failovers and
// their timing, announcements sent, packets ignored, config reloads.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EngineOutput } from '../core/types.js';
import { TextHistogram } from './textHistogram.js';

/** 50 µs doubling to ~26 s: resolves both LAN and WAN round trips (as smokeping_prober). */
export const RTT_BUCKETS = Array.from({ length: 20 }, (_, i) => 0.00005 * 2 ** i);
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
  /** rendered by the exporter after the registry's text (see textHistogram.ts for why) */
  readonly rtt: TextHistogram<'group' | 'device' | 'target'>;
  private readonly failovers: Counter<'group' | 'reason'>;
  private readonly failoverErrors: Counter<'group' | 'stage'>;
  private readonly failoverDuration: Histogram<'group'>;
  private readonly declaredGroups = new Set<string>();
  private readonly lastFailover: Gauge<'group'>;
  private readonly garp: Counter<'group' | 'device'>;
  private readonly na: Counter<'group' | 'device'>;
  private readonly ignored: Counter<'reason'>;
  private readonly routesMoved: Counter<'group' | 'protocol'>;
  /** observed at every scheduler wake-up: rendered by the exporter, like rtt */
  readonly lateness: TextHistogram<never>;
  private readonly reloadOk: Gauge;
  private readonly reloadTimestamp: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.rtt = new TextHistogram(
      'ipmp_probe_rtt_seconds',
      'Round-trip time of answered probes.',
      ['group', 'device', 'target'],
      RTT_BUCKETS,
    );
    this.failovers = new Counter({
      name: 'ipmp_failovers_total',
      help: 'Data address moves, by cause.',
      labelNames: ['group', 'reason'],
      registers,
    });
    this.failoverErrors = new Counter({
      name: 'ipmp_failover_errors_total',
      help: 'Failover steps that failed, by stage.',
      labelNames: ['group', 'stage'],
      registers,
    });
    this.failoverDuration = new Histogram({
      name: 'ipmp_failover_duration_seconds',
      help: 'From the decision to move to the address moved and the first announcement sent.',
      labelNames: ['group'],
      buckets: FAILOVER_BUCKETS,
      registers,
    });
    this.lastFailover = new Gauge({
      name: 'ipmp_last_failover_timestamp_seconds',
      help: 'When a data address last moved (Unix time).',
      labelNames: ['group'],
      registers,
    });
    this.garp = new Counter({
      name: 'ipmp_gratuitous_arp_sent_total',
      help: 'Gratuitous ARP packets actually sent.',
      labelNames: ['group', 'device'],
      registers,
    });
    this.na = new Counter({
      name: 'ipmp_unsolicited_na_sent_total',
      help: 'Unsolicited neighbour advertisements actually sent.',
      labelNames: ['group', 'device'],
      registers,
    });
    this.routesMoved = new Counter({
      name: 'ipmp_routes_moved_total',
      help: "Routes ipmpd rewrote onto the new holder of a data address, by origin (a routing daemon's are never moved).",
      labelNames: ['group', 'protocol'],
      registers,
    });
    this.ignored = new Counter({
      name: 'ipmp_probe_ignored_packets_total',
      help: 'Probe replies (ICMP, or ARP for probe_method: arp) received and ignored, by why.',
      labelNames: ['reason'],
      registers,
    });
    this.lateness = new TextHistogram(
      'ipmp_scheduler_lateness_seconds',
      'How late the probe scheduler woke after its deadline (event-loop delay as probing sees it).',
      [],
      LATENESS_BUCKETS,
    );
    this.lateness.zero({});
    this.reloadOk = new Gauge({
      name: 'ipmp_config_last_reload_successful',
      help: 'Whether the last configuration load succeeded.',
      registers,
    });
    this.reloadTimestamp = new Gauge({
      name: 'ipmp_config_last_reload_success_timestamp_seconds',
      help: 'When the configuration was last loaded successfully (Unix time).',
      registers,
    });
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
    if (o.kind === 'probe_acked')
      this.rtt.observe({ group: o.group, device: o.ifname, target: o.target }, o.rttMs / 1000);
    else if (o.kind === 'target_removed') this.rtt.remove({ group: o.group, device: o.ifname, target: o.target });
    else if (o.kind === 'target_added') this.rtt.zero({ group: o.group, device: o.ifname, target: o.target });
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
    this.reloadOk.set(ok ? 1 : 0);
    if (ok) this.reloadTimestamp.set(unixSeconds);
  }
}
