// Every selector, threshold and window of the shipped rules, in one place.
// Change them here and run `npm run mixin` to regenerate alerts/ipmpd-rules.yml.
//
// State alerts use a window, not `for:` on a gauge: they fire only if every
// sample in the window (and the one before it) showed the state, so they mean what their summary says
// at any evaluation interval (up to 1m) and any scrape interval (up to 30s).
// A window must span at least two scrapes to tell an outage from a blip:
// keep windows at 1m or more when scraping every 30s.

export const mixinConfig = {
  /** Selects the ipmpd scrape job(s). */
  selector: 'job=~"ipmpd.*"',
  /** Where alerts/RUNBOOK.md is served for your on-call (set it to your copy of the repo). */
  runbookBase: 'https://ipmpd.example/alerts/RUNBOOK.md',
  /** Your Grafana: each alert's dashboard_url opens ipmpd's board there, on the alert's host and group. */
  grafanaUrl: 'https://grafana.example',
  /** Stable dashboard uids: alert links and the links between the boards use them. */
  hostBoardUid: 'ipmpd-host',
  overviewBoardUid: 'ipmpd-overview',
  /** Several clusters in one Prometheus: a $cluster variable on the boards, and the label kept by every aggregation. */
  showMultiCluster: false as boolean,
  clusterLabel: 'cluster',
  groupFailedWindow: '1m',
  groupDegradedWindow: '5m',
  interfaceFailedWindow: '1m',
  addressUnheldWindow: '1m',
  duplicateHolderWindow: '1m',
  targetsUnreachableWindow: '1m',
  detectionDisabledWindow: '10m',
  exporterDownWindow: '1m',
  flapping: { window: '15m', failures: 3 },
  highLoss: { ratio: 0.1, for: '10m' },
  highLatency: { p90Seconds: 0.1, for: '10m' },
  /** A moved address that no packet has reached for this long (ipmpd re-announces it for announce.until_traffic, 60s by default). */
  inboundSilent: { seconds: 300 },
};

export type MixinConfig = typeof mixinConfig;
