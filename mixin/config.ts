// Every selector and threshold of the shipped rules, in one place. Change them
// here and run `npm run mixin` to regenerate alerts/ipmpd-rules.yml.

export const mixinConfig = {
  /** Selects the ipmpd scrape job(s). */
  selector: 'job=~"ipmpd.*"',
  /** Where alerts/RUNBOOK.md is served for your on-call (set it to your copy of the repo). */
  runbookBase: 'https://ipmpd.example/alerts/RUNBOOK.md',
  groupFailedFor: '30s',
  groupDegradedFor: '5m',
  interfaceFailedFor: '1m',
  flapping: { window: '15m', failures: 3 },
  highLoss: { ratio: 0.1, for: '10m' },
  highLatency: { p90Seconds: 0.1, for: '10m' },
  detectionDisabledFor: '10m',
  exporterDownFor: '1m',
};
