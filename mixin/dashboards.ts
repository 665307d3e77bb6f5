// ipmpd's Grafana dashboards: a fleet overview and a per-host detail.

import { mixinConfig, type MixinConfig } from './config.js';
import { boardLink, dashboard, queryVariable, type PanelSpec } from './panels.js';
import { rttEstimate } from './rules.js';

/** The heatmap's bounds when there is no RTT histogram: ipmpd's `coarse` bucket preset. */
const FALLBACK_BOUNDS = ['0.0001', '0.00025', '0.001', '0.0025', '0.01', '0.025', '0.1', '0.25', '1'];

/**
 * Cumulative buckets of the targets' smoothed RTTs (how many targets at or below
 * each bound, as a histogram's le series), for hosts with metrics.rtt_histogram off.
 */
function smoothedBuckets(sel: string): string {
  const smoothed = `ipmp_probe_rtt_smoothed_seconds{${sel}}`;
  return [...FALLBACK_BOUNDS.map((le) => [le, `count(${smoothed} <= ${le})`]), ['+Inf', `count(${smoothed})`]]
    .map(([le, count]) => `label_replace(${count} or vector(0), "le", "${le}", "", "")`)
    .join(' or ');
}

/** Selectors, variables, annotations and links of both boards for a configuration. */
function boardParts(c: MixinConfig) {
  // with showMultiCluster, a $cluster variable selects the cluster label first
  const sel = `${c.showMultiCluster ? `${c.clusterLabel}=~"$cluster",` : ''}job=~"$job",instance=~"$instance"`;
  const selG = `${sel},group=~"$group"`;
  const selD = `${selG},device=~"$device"`;

  const stateMapping = (states: Record<string, string>) => [
    {
      type: 'value',
      options: Object.fromEntries(
        Object.entries(states).map(([k, color], i) => [String(i), { text: k, color, index: i }]),
      ),
    },
  ];

  const clusterSel = c.showMultiCluster ? `${c.clusterLabel}=~"$cluster"` : '';
  const variables = (withDevice: boolean) => [
    ...(c.showMultiCluster
      ? [queryVariable('cluster', 'Cluster', `label_values(ipmp_build_info, ${c.clusterLabel})`)]
      : []),
    queryVariable('job', 'Job', `label_values(ipmp_build_info${clusterSel ? `{${clusterSel}}` : ''}, job)`),
    queryVariable(
      'instance',
      'Instance',
      `label_values(ipmp_build_info{${clusterSel ? `${clusterSel},` : ''}job=~"$job"}, instance)`,
    ),
    queryVariable('group', 'Group', `label_values(ipmp_group_state{${sel}}, group)`),
    ...(withDevice ? [queryVariable('device', 'Device', `label_values(ipmp_interface_state{${selG}}, device)`)] : []),
  ];

  // Event annotations from the counters, so a latency bump lines up with the move that caused it.
  const counterAnnotation = (name: string, iconColor: string, expr: string, titleFormat: string, tagKeys: string) => ({
    name,
    datasource: { type: 'prometheus', uid: '${datasource}' },
    enable: true,
    iconColor,
    expr,
    titleFormat,
    tagKeys,
    useValueForTime: false,
  });
  const failoverAnnotation = counterAnnotation(
    'Failovers',
    'orange',
    `sum by (instance, group, reason) (increase(ipmp_failovers_total{${selG}}[$__rate_interval])) > 0`,
    'failover in {{group}} on {{instance}} ({{reason}})',
    'instance,group,reason',
  );
  const interfaceFailureAnnotation = counterAnnotation(
    'Interface failures',
    'red',
    `sum by (instance, group, device, reason) (increase(ipmp_interface_failures_total{${selD}}[$__rate_interval])) > 0`,
    '{{device}} failed ({{reason}}) on {{instance}}',
    'instance,group,device,reason',
  );
  const interfaceRepairAnnotation = counterAnnotation(
    'Interface repairs',
    'green',
    `sum by (instance, group, device) (increase(ipmp_interface_repairs_total{${selD}}[$__rate_interval])) > 0`,
    '{{device}} repaired on {{instance}}',
    'instance,group,device',
  );

  /** From a fleet row (instance, group) to the host board, keeping job, data source and time. */
  const toHostBoard = {
    title: 'Host detail of ${__field.labels.instance} ${__field.labels.group}',
    url: `/d/${c.hostBoardUid}?\${datasource:queryparam}&${c.showMultiCluster ? '\${cluster:queryparam}&' : ''}\${job:queryparam}&var-instance=\${__field.labels.instance}&var-group=\${__field.labels.group}&\${__url_time_range}`,
  };
  return {
    selG,
    selD,
    stateMapping,
    variables,
    failoverAnnotation,
    interfaceFailureAnnotation,
    interfaceRepairAnnotation,
    toHostBoard,
  };
}

export function overviewDashboard(c: MixinConfig = mixinConfig): Record<string, unknown> {
  const { selG, stateMapping, variables, failoverAnnotation, toHostBoard } = boardParts(c);
  const panels: PanelSpec[] = [
    {
      title: 'Groups failed',
      description: 'Groups with no usable interface, across all instances.',
      type: 'stat',
      unit: 'short',
      w: 8,
      targets: [{ expr: `sum(ipmp_group_state{${selG},state="failed"})` }],
    },
    {
      title: 'Groups degraded',
      description: 'Groups running without redundancy.',
      type: 'stat',
      unit: 'short',
      w: 8,
      targets: [{ expr: `sum(ipmp_group_state{${selG},state="degraded"})` }],
    },
    {
      title: 'Groups ok',
      description: 'Groups with every member usable.',
      type: 'stat',
      unit: 'short',
      w: 8,
      targets: [{ expr: `sum(ipmp_group_state{${selG},state="ok"})` }],
    },
    {
      title: 'Group state by instance',
      description: 'ok / degraded / failed over time, one row per group and instance.',
      type: 'state-timeline',
      unit: 'short',
      w: 24,
      mappings: stateMapping({ ok: 'green', degraded: 'orange', failed: 'red' }),
      links: [toHostBoard],
      targets: [
        {
          expr: `max by (instance, group) (ipmp_group_state{${selG},state="degraded"}) + 2 * max by (instance, group) (ipmp_group_state{${selG},state="failed"})`,
          legendFormat: '{{instance}} {{group}}',
        },
      ],
    },
    {
      title: 'Failovers',
      description: 'Data address moves per interval, by cause.',
      type: 'timeseries',
      unit: 'short',
      stacking: true,
      targets: [
        {
          expr: `sum by (reason) (increase(ipmp_failovers_total{${selG}}[$__rate_interval]))`,
          legendFormat: '{{reason}}',
        },
      ],
    },
    {
      title: 'Usable interfaces',
      description: 'Usable members against configured members per group.',
      type: 'timeseries',
      unit: 'short',
      targets: [
        {
          expr: `sum by (instance, group) (ipmp_group_interfaces_usable{${selG}})`,
          legendFormat: '{{instance}} {{group}} usable',
        },
        {
          expr: `sum by (instance, group) (ipmp_group_interfaces{${selG}})`,
          legendFormat: '{{instance}} {{group}} configured',
        },
      ],
    },
  ];
  return dashboard(
    c.overviewBoardUid,
    'ipmpd / Fleet overview',
    'IPMP groups across every instance: state and failovers.',
    panels,
    variables(false),
    {
      annotations: [failoverAnnotation],
      links: [boardLink('Host detail', c.hostBoardUid)],
    },
  );
}

export function hostDashboard(c: MixinConfig = mixinConfig): Record<string, unknown> {
  const {
    selG,
    selD,
    stateMapping,
    variables,
    failoverAnnotation,
    interfaceFailureAnnotation,
    interfaceRepairAnnotation,
  } = boardParts(c);
  const panels: PanelSpec[] = [
    {
      title: 'Group state',
      description: 'ok / degraded / failed of the selected groups.',
      type: 'state-timeline',
      unit: 'short',
      w: 24,
      h: 5,
      mappings: stateMapping({ ok: 'green', degraded: 'orange', failed: 'red' }),
      targets: [
        {
          expr: `max by (group) (ipmp_group_state{${selG},state="degraded"}) + 2 * max by (group) (ipmp_group_state{${selG},state="failed"})`,
          legendFormat: '{{group}}',
        },
      ],
    },
    {
      title: 'Interface state',
      description: 'ok / failed / offline / unknown per interface.',
      type: 'state-timeline',
      unit: 'short',
      w: 24,
      h: 6,
      mappings: stateMapping({ ok: 'green', failed: 'red', offline: 'blue', unknown: 'yellow' }),
      targets: [
        {
          expr: `max by (device) (ipmp_interface_state{${selD},state="failed"}) + 2 * max by (device) (ipmp_interface_state{${selD},state="offline"}) + 3 * max by (device) (ipmp_interface_state{${selD},state="unknown"})`,
          legendFormat: '{{device}}',
        },
      ],
    },
    {
      title: 'Address holder',
      description: 'Which interface holds each floating data address (1 = holder).',
      type: 'state-timeline',
      unit: 'short',
      w: 24,
      h: 6,
      targets: [{ expr: `ipmp_address_holder{${selD}} == 1`, legendFormat: '{{ip_address}} on {{device}}' }],
    },
    {
      title: 'Probe RTT heatmap',
      description:
        'Distribution of probe round-trip times for the selected devices. On a host with metrics.rtt_histogram off: how many targets have their smoothed RTT in each bucket.',
      type: 'heatmap',
      unit: 's',
      targets: [
        {
          // `or on ()`: the fallback only when the histogram has no series at all
          expr: `sum by (le) (rate(ipmp_probe_rtt_seconds_bucket{${selD}}[$__rate_interval])) or on () (${smoothedBuckets(selD)})`,
          legendFormat: '{{le}}',
          format: 'heatmap',
        },
      ],
    },
    {
      title: 'Probe RTT p50 / p90 / p99',
      description:
        'Round-trip quantiles per device and target (per device when metrics.rtt_histogram is per interface; estimated from the smoothed RTT and its deviation when it is off).',
      type: 'timeseries',
      unit: 's',
      targets: (['50', '90', '99'] as const).map((q) => ({
        expr: `histogram_quantile(0.${q}, sum by (device, target, le) (rate(ipmp_probe_rtt_seconds_bucket{${selD}}[$__rate_interval]))) or on (device) ${rttEstimate(q, 'device, target', selD)}`,
        legendFormat: `p${q} {{device}} {{target}}`,
      })),
    },
    {
      title: 'Probe loss',
      description: 'Lost / sent probes per device and target.',
      type: 'timeseries',
      unit: 'percentunit',
      targets: [
        {
          expr: `sum by (device, target) (rate(ipmp_probe_timeouts_total{${selD}}[$__rate_interval])) / sum by (device, target) (rate(ipmp_probe_requests_total{${selD}}[$__rate_interval]))`,
          legendFormat: '{{device}} → {{target}}',
        },
      ],
    },
    {
      title: 'Smoothed RTT and deviation',
      description: 'The estimator behind the loss timeout (ipmpstat RTTAVG, RTTDEV).',
      type: 'timeseries',
      unit: 's',
      targets: [
        { expr: `ipmp_probe_rtt_smoothed_seconds{${selD}}`, legendFormat: 'avg {{device}} → {{target}}' },
        { expr: `ipmp_probe_rtt_deviation_seconds{${selD}}`, legendFormat: 'dev {{device}} → {{target}}' },
      ],
    },
    {
      title: 'Failures and repairs',
      description: 'Interface failures (by cause) and repairs per interval.',
      type: 'timeseries',
      unit: 'short',
      targets: [
        {
          expr: `sum by (device, reason) (increase(ipmp_interface_failures_total{${selD}}[$__rate_interval]))`,
          legendFormat: '{{device}} failed ({{reason}})',
        },
        {
          expr: `sum by (device) (increase(ipmp_interface_repairs_total{${selD}}[$__rate_interval]))`,
          legendFormat: '{{device}} repaired',
        },
      ],
    },
    {
      title: 'Failovers',
      description: 'Data address moves per interval, by cause.',
      type: 'timeseries',
      unit: 'short',
      stacking: true,
      targets: [
        {
          expr: `sum by (reason) (increase(ipmp_failovers_total{${selG}}[$__rate_interval]))`,
          legendFormat: '{{reason}}',
        },
      ],
    },
    {
      title: 'Announcements sent',
      description: 'Gratuitous ARP and unsolicited NA packets sent per interval.',
      type: 'timeseries',
      unit: 'short',
      targets: [
        {
          expr: `sum by (device) (increase(ipmp_gratuitous_arp_sent_total{${selD}}[$__rate_interval]))`,
          legendFormat: 'GARP {{device}}',
        },
        {
          expr: `sum by (device) (increase(ipmp_unsolicited_na_sent_total{${selD}}[$__rate_interval]))`,
          legendFormat: 'NA {{device}}',
        },
      ],
    },
    {
      title: 'Failover duration p99',
      description: 'From the decision to move to the address moved and first announcement sent.',
      type: 'timeseries',
      unit: 's',
      targets: [
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(ipmp_failover_duration_seconds_bucket{${selG}}[$__rate_interval])))`,
          legendFormat: 'p99',
        },
      ],
    },
    {
      title: 'Failure detection time',
      description: 'FDT in effect (raised when targets are slow) and as configured.',
      type: 'timeseries',
      unit: 's',
      targets: [{ expr: `ipmp_group_failure_detection_time_seconds{${selG}}`, legendFormat: '{{group}} {{kind}}' }],
    },
  ];
  return dashboard(
    c.hostBoardUid,
    'ipmpd / Host detail',
    'One host: group, interface and address state, probe RTT and loss, failovers.',
    panels,
    variables(true),
    {
      annotations: [failoverAnnotation, interfaceFailureAnnotation, interfaceRepairAnnotation],
      links: [boardLink('Fleet overview', c.overviewBoardUid)],
    },
  );
}
