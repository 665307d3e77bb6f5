// The Prometheus rules shipped in alerts/: recording rules that dashboards and
// alerts share, and the alerts, each with a runbook entry.

import { mixinConfig, type MixinConfig } from './config.js';

export interface Alert {
  alert: string;
  expr: string;
  for: string;
  severity: 'critical' | 'warning' | 'info';
  summary: string;
  description: string;
  /** Labels of the alert that select the host board's variables (none: the fleet board). */
  board: BoardVar[];
}

type BoardVar = 'job' | 'instance' | 'group' | 'device';

/**
 * An RTT quantile from the per-target smoothed RTT and mean deviation, for hosts
 * that export no RTT histogram (metrics.rtt_histogram.granularity: off): the
 * median is about the smoothed RTT, higher quantiles add deviations (TCP's
 * retransmission timer takes smoothed + 4 x deviation for "late").
 */
const RTT_DEVIATIONS: Record<'50' | '90' | '99', number> = { '50': 0, '90': 2, '99': 4 };
export function rttEstimate(q: '50' | '90' | '99', by: string, selector: string): string {
  const k = RTT_DEVIATIONS[q];
  const smoothed = `ipmp_probe_rtt_smoothed_seconds{${selector}}`;
  return `max by (${by}) (${k ? `${smoothed} + ${k} * ipmp_probe_rtt_deviation_seconds{${selector}}` : smoothed})`;
}

/** The rules for a configuration (mixin/jsonnet.ts passes a symbolic one to write mixin.libsonnet). */
function definitions(c: MixinConfig) {
  // aggregations keep the cluster label when one Prometheus sees several clusters
  const keep = (labels: string) => (c.showMultiCluster ? `${c.clusterLabel}, ${labels}` : labels);
  const by = keep('job, instance, group');
  const runbook = (name: string) => `${c.runbookBase}#${name.toLowerCase()}`;
  const dashboardUrl = (vars: BoardVar[]) =>
    vars.length === 0
      ? `${c.grafanaUrl}/d/${c.overviewBoardUid}`
      : `${c.grafanaUrl}/d/${c.hostBoardUid}?${vars.map((v) => `var-${v}={{ $labels.${v} | urlquery }}`).join('&')}`;
  const G: BoardVar[] = ['job', 'instance', 'group'];
  const D: BoardVar[] = ['job', 'instance', 'group', 'device'];

  /**
   * A 0/1 gauge that was `value` at every scrape of the window and at the last
   * scrape before it. Unlike `gauge == 1` with `for:`, which only sees the
   * samples the evaluations happen to land on (at a 1m evaluation interval a
   * fault of 15 s in every 60 s can look permanent), this looks at every scrape.
   * The sample before the window keeps a series younger than the window (a new
   * target, a Prometheus that just started) from firing on its first scrapes.
   */
  const heldAt = (value: 0 | 1, metric: string, matchers: string, window: string) => {
    const series = `${metric}{${[c.selector, matchers].filter(Boolean).join(',')}}`;
    return `${value ? 'min' : 'max'}_over_time(${series}[${window}]) == ${value} and ${series} offset ${window} == ${value}`;
  };
  const heldFor = (metric: string, matchers: string, window: string) => heldAt(1, metric, matchers, window);

  const recordingRules = [
    {
      record: 'group_device_target:ipmp_probe_loss:ratio_rate5m',
      expr: `rate(ipmp_probe_timeouts_total{${c.selector}}[5m]) / rate(ipmp_probe_requests_total{${c.selector}}[5m])`,
    },
    // from the RTT histogram at either granularity (per target or per interface); with
    // metrics.rtt_histogram off, estimated from the smoothed RTT and its mean deviation
    ...(['50', '90', '99'] as const).map((q) => ({
      record: `group_device:ipmp_probe_rtt_seconds:p${q}_rate5m`,
      expr: `histogram_quantile(0.${q}, sum by (${keep('job, instance, group, device, le')}) (rate(ipmp_probe_rtt_seconds_bucket{${c.selector}}[5m]))) or on (${keep('job, instance, group, device')}) ${rttEstimate(q, keep('job, instance, group, device'), c.selector)}`,
    })),
    {
      record: 'group:ipmp_failovers:increase1h',
      expr: `sum by (${by}) (increase(ipmp_failovers_total{${c.selector}}[1h]))`,
    },
  ];

  const alerts: Alert[] = [
    {
      alert: 'IPMPGroupFailed',
      severity: 'critical',
      for: '0s',
      board: G,
      expr: heldFor('ipmp_group_state', 'state="failed"', c.groupFailedWindow),
      summary: 'An IPMP group has no usable interface.',
      description:
        'Group {{ $labels.group }} on {{ $labels.instance }} has no usable interface: its data addresses are unreachable.',
    },
    {
      alert: 'IPMPGroupDegraded',
      severity: 'warning',
      for: '0s',
      board: G,
      expr: heldFor('ipmp_group_state', 'state="degraded"', c.groupDegradedWindow),
      summary: 'An IPMP group runs without redundancy.',
      description:
        'Group {{ $labels.group }} on {{ $labels.instance }} has been degraded for ' +
        c.groupDegradedWindow +
        ': some members are failed or offline.',
    },
    {
      alert: 'IPMPInterfaceFailed',
      severity: 'warning',
      for: '0s',
      board: D,
      expr: heldFor('ipmp_interface_state', 'state="failed"', c.interfaceFailedWindow),
      summary: 'An IPMP interface has failed.',
      description:
        'Interface {{ $labels.device }} of group {{ $labels.group }} on {{ $labels.instance }} has been failed for ' +
        c.interfaceFailedWindow +
        ' (carrier lost or probes unanswered).',
    },
    {
      alert: 'IPMPInterfaceFlapping',
      severity: 'warning',
      for: '0m',
      board: D,
      expr: `sum by (${keep('job, instance, group, device')}) (increase(ipmp_interface_failures_total{${c.selector}}[${c.flapping.window}])) >= ${c.flapping.failures}`,
      summary: 'An IPMP interface keeps failing and recovering.',
      description:
        'Interface {{ $labels.device }} of group {{ $labels.group }} on {{ $labels.instance }} failed {{ $value | humanize }} times in ' +
        c.flapping.window +
        '.',
    },
    {
      alert: 'IPMPAddressUnheld',
      severity: 'critical',
      for: '0s',
      board: G,
      // no interface held it at any sample of the window
      expr: `sum by (${keep('job, instance, group, ip_address')}) (max_over_time(ipmp_address_holder{${c.selector}}[${c.addressUnheldWindow}])) == 0 and sum by (${keep('job, instance, group, ip_address')}) (ipmp_address_holder{${c.selector}} offset ${c.addressUnheldWindow}) == 0`,
      summary: 'A floating data address is on no interface.',
      description:
        'Data address {{ $labels.ip_address }} of group {{ $labels.group }} on {{ $labels.instance }} has been held by no interface for ' +
        c.addressUnheldWindow +
        '.',
    },
    {
      alert: 'IPMPAddressInboundSilent',
      severity: 'warning',
      for: '0s',
      board: G,
      // the gauge counts from the move while no packet for the address reached its new NIC, and is 0 once one did
      expr: `ipmp_address_inbound_silent_seconds{${c.selector}} > ${c.inboundSilent.seconds}`,
      summary: 'No traffic has reached a data address since it moved.',
      description:
        'Data address {{ $labels.ip_address }} of group {{ $labels.group }} on {{ $labels.instance }} moved {{ $value | humanizeDuration }} ago and no packet for it has reached its new interface: a switch or neighbour may still send its traffic to the old one.',
    },
    {
      alert: 'IPMPAddressDuplicateHolder',
      severity: 'critical',
      for: '0s',
      board: [],
      // interfaces that held it at every sample of the window: a failover's brief overlap is not counted
      expr: `sum by (${keep('ip_address')}) (${heldFor('ipmp_address_holder', '', c.duplicateHolderWindow)}) > 1`,
      summary: 'A floating data address is held twice.',
      description:
        'Data address {{ $labels.ip_address }} is held by {{ $value }} interfaces (across hosts or on one host): split brain or a stale copy.',
    },
    {
      alert: 'IPMPFailoverErrors',
      severity: 'critical',
      for: '0m',
      board: G,
      expr: `sum by (${keep('job, instance, group, stage')}) (increase(ipmp_failover_errors_total{${c.selector}}[10m])) > 0`,
      summary: 'ipmpd failed to move a data address.',
      description:
        'Group {{ $labels.group }} on {{ $labels.instance }}: failover stage {{ $labels.stage }} failed {{ $value | humanize }} times in 10m.',
    },
    {
      alert: 'IPMPProbeDetectionDisabled',
      severity: 'warning',
      for: '0s',
      board: D,
      expr: heldFor('ipmp_interface_probe_state', 'state=~"disabled|unknown"', c.detectionDisabledWindow),
      summary: 'An IPMP interface is not probed.',
      description:
        'Interface {{ $labels.device }} of group {{ $labels.group }} on {{ $labels.instance }} has probe state {{ $labels.state }} (no test address, or no targets): only carrier loss will be detected.',
    },
    {
      alert: 'IPMPTargetsUnreachable',
      severity: 'warning',
      for: '0s',
      board: G,
      expr: heldFor('ipmp_group_targets_unreachable', '', c.targetsUnreachableWindow),
      summary: 'Every probe target of an IPMP group stopped answering.',
      description:
        'Every target of group {{ $labels.group }} on {{ $labels.instance }} stopped answering on every interface at once; ipmpd is looking for new targets.',
    },
    {
      alert: 'IPMPHighProbeLoss',
      severity: 'warning',
      for: c.highLoss.for,
      board: D,
      expr: `group_device_target:ipmp_probe_loss:ratio_rate5m > ${c.highLoss.ratio}`,
      summary: 'IPMP probes are being lost.',
      description:
        'Probes from {{ $labels.device }} (group {{ $labels.group }}) on {{ $labels.instance }} to {{ $labels.target }} lose {{ $value | humanizePercentage }}.',
    },
    {
      alert: 'IPMPHighProbeLatency',
      severity: 'warning',
      for: c.highLatency.for,
      board: D,
      expr: `group_device:ipmp_probe_rtt_seconds:p90_rate5m > ${c.highLatency.p90Seconds}`,
      summary: 'IPMP probe round trips are slow.',
      description:
        'p90 probe RTT on {{ $labels.device }} (group {{ $labels.group }}) on {{ $labels.instance }} is {{ $value | humanizeDuration }}.',
    },
    {
      alert: 'IPMPConfigReloadFailed',
      severity: 'warning',
      for: '0m',
      board: ['job', 'instance'],
      expr: `ipmp_config_last_reload_successful{${c.selector}} == 0`,
      summary: 'ipmpd could not load its configuration.',
      description:
        'ipmpd on {{ $labels.instance }} rejected its last configuration and keeps running the previous one.',
    },
    {
      alert: 'IPMPExporterDown',
      severity: 'critical',
      for: '0s',
      board: ['job', 'instance'],
      // every scrape of the window failed
      expr: heldAt(0, 'up', '', c.exporterDownWindow),
      summary: 'ipmpd is not being scraped.',
      description:
        'Prometheus cannot scrape ipmpd on {{ $labels.instance }}: failovers there are neither done nor seen.',
    },
  ];
  const alertRules = alerts.map((a) => ({
    alert: a.alert,
    expr: a.expr,
    for: a.for,
    labels: { severity: a.severity },
    annotations: {
      summary: a.summary,
      description: a.description,
      runbook_url: runbook(a.alert),
      dashboard_url: dashboardUrl(a.board),
    },
  }));
  return { recordingRules, alerts, alertRules };
}

export const { alerts } = definitions(mixinConfig);

export function recordsGroup(c: MixinConfig = mixinConfig) {
  return { name: 'ipmpd.rules', rules: definitions(c).recordingRules };
}

export function alertsGroup(c: MixinConfig = mixinConfig) {
  return { name: 'ipmpd.alerts', rules: definitions(c).alertRules };
}

/** alerts/ipmpd-rules.yml: recording rules and alerts in one file. */
export function rulesDocument(c: MixinConfig = mixinConfig): unknown {
  return { groups: [recordsGroup(c), alertsGroup(c)] };
}
