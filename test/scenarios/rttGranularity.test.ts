// metrics.rtt_histogram against a live Prometheus: ipmpd runs with each
// granularity (per target, per interface, off) in turn, a fresh Prometheus
// loaded with the shipped rules scrapes it, and every dashboard query and
// recording rule built on the RTT histogram must return data in every mode
// (per interface or off, the fallbacks of the mixin: see mixin/rules.ts).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DASHBOARD_DIR, RULES_FILE } from '../../mixin/build.js';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Every query of the shipped boards that reads the RTT histogram, with its panel's title. */
function rttQueries(): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const file of readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json'))) {
    const dash = JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    };
    for (const p of dash.panels)
      for (const [k, t] of (p.targets ?? []).entries())
        if (/ipmp_probe_rtt_seconds/.test(t.expr))
          out.push({
            where: `${file} "${p.title}" query ${k + 1}`,
            expr: t.expr.replace(/\$__rate_interval/g, '1m').replace(/\$(job|instance|group|device|cluster)/g, '.+'),
          });
  }
  // the recording rules the latency alert and the fleet board read
  for (const q of ['50', '90', '99'])
    out.push({ where: `recording rule p${q}`, expr: `group_device:ipmp_probe_rtt_seconds:p${q}_rate5m` });
  return out;
}

describe('the RTT histogram granularity against a live Prometheus', { concurrency: false }, () => {
  let lab: Lab;
  let dir: string;
  const queries = rttQueries();

  before(async () => {
    lab = await Lab.create(twoNicGroup());
    dir = mkdtempSync(join(tmpdir(), 'ipmpd-rtt-granularity-'));
  });
  after(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(q: string): Promise<{ status: string; error?: string; result: Sample[] }> {
    const r = await lab.exec(
      'ipmp',
      ['curl', '-s', '--get', 'http://127.0.0.1:9090/api/v1/query', '--data-urlencode', `query=${q}`],
      { allowFail: true },
    );
    if (r.code !== 0 || !r.stdout.startsWith('{')) return { status: 'unreachable', result: [] };
    const body = JSON.parse(r.stdout) as { status: string; error?: string; data?: { result: Sample[] } };
    return { status: body.status, ...(body.error ? { error: body.error } : {}), result: body.data?.result ?? [] };
  }

  /** ipmpd with this granularity and a fresh Prometheus scraping it; `check` runs once every RTT query has data. */
  async function withMode(
    granularity: 'target' | 'interface' | 'off',
    check: (answers: Map<string, Sample[]>) => Promise<void>,
  ): Promise<void> {
    const ipmpd = IpmpdProcess.start(
      lab,
      'ipmp',
      twoNicYaml({
        fdt: '1s',
        targets: ['198.18.11.21', '198.18.11.22'],
        extra: `metrics:\n  rtt_histogram:\n    granularity: "${granularity}"\n    buckets: coarse`,
      }),
      { logLevel: 'info' },
    );
    const data = join(dir, granularity);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['${RULES_FILE}']\nscrape_configs:\n  - job_name: ipmpd\n    static_configs:\n      - targets: ['127.0.0.1:${ipmpd.port}']\n`,
    );
    let prometheus: ChildProcess | undefined;
    try {
      await ipmpd.waitFor('start', (l) => l.event === 'started', 15_000); // (the address stays placed from the mode before)
      prometheus = lab.spawn(
        'ipmp',
        [
          'prometheus',
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${data}`,
          '--web.listen-address=127.0.0.1:9090',
        ],
        { stdio: 'ignore' },
      );
      // every query answers with data: rates need a few scrapes, the rules an evaluation after them
      const answers = new Map<string, Sample[]>();
      const end = Date.now() + 60_000;
      for (;;) {
        answers.clear();
        for (const q of queries) {
          const r = await query(q.expr);
          if (r.status === 'error') assert.fail(`${q.where}: ${q.expr}: ${r.error}`);
          if (r.result.length > 0) answers.set(q.where, r.result);
        }
        const missing = queries.filter((q) => !answers.has(q.where));
        // a query with a fallback has data before the histogram has two scrapes for a rate:
        // wait for the rate too, so the checks see the histogram's answer, not the estimate
        const histogramRated =
          granularity === 'off' || (await query('rate(ipmp_probe_rtt_seconds_count[1m])')).result.length > 0;
        if (missing.length === 0 && histogramRated) break;
        if (Date.now() > end)
          assert.fail(
            `granularity ${granularity}: no data from ${[
              ...missing.map((q) => `${q.where}: ${q.expr}`),
              ...(histogramRated ? [] : ['rate(ipmp_probe_rtt_seconds_count[1m])']),
            ].join('\n')}`,
          );
        await new Promise((r) => setTimeout(r, 1000));
      }
      await check(answers);
    } finally {
      if (prometheus) await lab.stopProcess(prometheus);
      await ipmpd.stop();
    }
  }

  /** The rows of the host board's quantile panel (its first query, the median). */
  const medianPanel = (answers: Map<string, Sample[]>) =>
    answers.get('ipmpd-host.json "Probe RTT p50 / p90 / p99" query 1')!;

  test('per target: one histogram per target; every RTT query has data', async () => {
    await withMode('target', async (answers) => {
      const panel = medianPanel(answers);
      assert.equal(panel.length, 4, JSON.stringify(panel));
      assert.ok(
        panel.every((s) => s.metric.target !== undefined),
        'from the histogram, per target',
      );
      const counts = await query('ipmp_probe_rtt_seconds_count');
      assert.equal(counts.result.length, 4, '2 NICs x 2 targets');
      assert.ok(counts.result.every((s) => s.metric.target !== undefined));
      const les = await query('count by (le) (ipmp_probe_rtt_seconds_bucket)');
      assert.equal(les.result.length, 10, 'the coarse preset: 9 bounds and +Inf');
    });
  });

  test('per interface: one histogram per NIC, no target label; every RTT query has data', async () => {
    await withMode('interface', async (answers) => {
      const counts = await query('ipmp_probe_rtt_seconds_count');
      assert.equal(counts.result.length, 2);
      assert.ok(counts.result.every((s) => s.metric.target === undefined));
      // the quantile panel: from the histogram (no estimate mixed in), one line per NIC
      const panel = medianPanel(answers);
      assert.ok(panel.length >= 2 && panel.every((s) => s.metric.target === undefined), JSON.stringify(panel));
    });
  });

  test('off: no RTT histogram; quantiles estimated from the smoothed RTT, the heatmap counts targets', async () => {
    await withMode('off', async (answers) => {
      assert.equal((await query('ipmp_probe_rtt_seconds_count')).result.length, 0);
      assert.equal((await query('ipmp_probe_rtt_smoothed_seconds')).result.length, 4, 'still per target');
      const heat = [...answers.entries()].find(([where]) => where.includes('heatmap'))![1];
      const inf = heat.find((s) => s.metric.le === '+Inf');
      assert.equal(Number(inf?.value[1]), 4, 'every target counted in +Inf');
      const panel = medianPanel(answers);
      assert.equal(panel.length, 4, 'estimated per target');
      const rule = answers.get('recording rule p90')!;
      assert.equal(rule.length, 2, 'one per NIC');
      assert.ok(
        rule.every((s) => Number(s.value[1]) > 0 && Number(s.value[1]) < 0.1),
        JSON.stringify(rule),
      );
    });
  });
});
