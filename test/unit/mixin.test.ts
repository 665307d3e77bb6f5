// The jsonnet mixin (mixin/mixin.libsonnet): in sync with mixin/*.ts, its
// default output is exactly the plain files, and _config overrides change the
// output where they should while the rules still pass promtool.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { MIXIN_DIR, renderMixin } from '../../mixin/build.js';

const run = promisify(execFile);
const ALERTS = fileURLToPath(new URL('../../../alerts/', import.meta.url));

type Rules = {
  groups: Array<{
    name: string;
    rules: Array<{ alert?: string; record?: string; expr: string; for?: string; annotations?: Record<string, string> }>;
  }>;
};

async function jsonnet(expr: string): Promise<unknown> {
  const { stdout } = await run('jsonnet', ['-J', MIXIN_DIR, '-e', expr], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as unknown;
}

test('the committed jsonnet mixin is what mixin/ generates', () => {
  for (const [name, text] of Object.entries(renderMixin()))
    assert.equal(readFileSync(join(MIXIN_DIR, name), 'utf8'), text, `run npm run mixin: mixin/${name} is stale`);
});

test('jsonnet renders the mixin with its defaults to exactly the generated files', async () => {
  const mixin = '(import "mixin.libsonnet")';
  assert.deepEqual(
    await jsonnet(`${mixin}.prometheusAlerts`),
    parse(readFileSync(join(MIXIN_DIR, 'prometheus_alerts.yaml'), 'utf8')),
  );
  assert.deepEqual(
    await jsonnet(`${mixin}.prometheusRules`),
    parse(readFileSync(join(MIXIN_DIR, 'prometheus_rules.yaml'), 'utf8')),
  );
  const boards = (await jsonnet(`${mixin}.grafanaDashboards`)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(boards).sort(), ['ipmpd-host.json', 'ipmpd-overview.json']);
  for (const [name, board] of Object.entries(boards))
    assert.deepEqual(board, JSON.parse(readFileSync(join(MIXIN_DIR, 'dashboards_out', name), 'utf8')), name);
});

test('_config overrides change the output, which still passes promtool check and the rule tests', async () => {
  const overridden = `((import "mixin.libsonnet") + { _config+:: { selector: 'job=~"ipm.*",env!="lab"', highLoss+: { ratio: 0.15 }, hostBoardUid: 'my-ipmp-host' } })`;
  const alerts = (await jsonnet(`${overridden}.prometheusAlerts`)) as Rules;
  const records = (await jsonnet(`${overridden}.prometheusRules`)) as Rules;
  const boards = (await jsonnet(`${overridden}.grafanaDashboards`)) as Record<
    string,
    { uid: string; links: Array<{ url: string }> }
  >;
  const rules = [...alerts.groups, ...records.groups].flatMap((g) => g.rules);
  const withSelector = rules.filter((r) => /ipmp_|up\{/.test(r.expr) && !/^group_device/.test(r.expr));
  assert.ok(withSelector.length > 10);
  for (const r of withSelector) {
    assert.ok(r.expr.includes('job=~"ipm.*",env!="lab"'), `${r.alert ?? r.record}: ${r.expr}`);
    assert.ok(!r.expr.includes('job=~"ipmpd.*"'), `${r.alert ?? r.record}: ${r.expr}`);
  }
  assert.equal(
    rules.find((r) => r.alert === 'IPMPHighProbeLoss')!.expr,
    'group_device_target:ipmp_probe_loss:ratio_rate5m > 0.15',
  );
  assert.equal(
    rules.find((r) => r.alert === 'IPMPHighProbeLatency')!.expr,
    'group_device:ipmp_probe_rtt_seconds:p90_rate5m > 0.1',
  );
  assert.match(rules.find((r) => r.alert === 'IPMPGroupFailed')!.annotations!.dashboard_url!, /\/d\/my-ipmp-host\?/);
  assert.equal(boards['ipmpd-host.json']!.uid, 'my-ipmp-host');
  assert.ok(
    boards['ipmpd-overview.json']!.links.some((l) => l.url === '/d/my-ipmp-host'),
    'the fleet board links to the renamed host board',
  );

  // the shipped rule tests (their series carry job="ipmpd"); the expected dashboard_url follows the renamed board
  await promtool(alerts, records, (t) => t.replaceAll('/d/ipmpd-host?', '/d/my-ipmp-host?'));
});

test('showMultiCluster adds a $cluster variable to the boards and keeps the cluster label in every aggregation', async () => {
  const multi = `((import "mixin.libsonnet") + { _config+:: { showMultiCluster: true, clusterLabel: 'k8s_cluster' } })`;
  const boards = (await jsonnet(`${multi}.grafanaDashboards`)) as Record<
    string,
    {
      templating: { list: Array<{ name: string; query?: { query: string } }> };
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    }
  >;
  for (const [name, b] of Object.entries(boards)) {
    const cluster = b.templating.list.find((v) => v.name === 'cluster');
    assert.equal(cluster?.query?.query, 'label_values(ipmp_build_info, k8s_cluster)', name);
    for (const p of b.panels)
      for (const t of p.targets)
        assert.ok(t.expr.includes('k8s_cluster=~"$cluster",job=~"$job"'), `${name} "${p.title}": ${t.expr}`);
  }
  const single = (await jsonnet('(import "mixin.libsonnet").grafanaDashboards')) as typeof boards;
  assert.ok(!JSON.stringify(single).includes('$cluster'));

  const alerts = (await jsonnet(`${multi}.prometheusAlerts`)) as Rules;
  const records = (await jsonnet(`${multi}.prometheusRules`)) as Rules;
  const aggregations = [...alerts.groups, ...records.groups]
    .flatMap((g) => g.rules)
    .flatMap((r) => [...r.expr.matchAll(/\bby \(([^)]*)\)/g)].map((m) => m[1]!));
  assert.ok(aggregations.length >= 8);
  for (const labels of aggregations) assert.match(labels, /^k8s_cluster, /);
  await promtool(alerts, records, (t) => t);
});

/** promtool check rules, and the shipped rule tests run against these rules instead of alerts/ipmpd-rules.yml. */
async function promtool(alerts: Rules, records: Rules, adapt: (testFile: string) => string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-mixin-'));
  try {
    const file = join(dir, 'ipmpd-rules.yml');
    writeFileSync(file, stringify({ groups: [...records.groups, ...alerts.groups] }));
    assert.match((await run('promtool', ['check', 'rules', file])).stdout, /SUCCESS/);
    const tests = ['ipmpd-rules.test.yml', 'aliasing-15s.test.yml', 'aliasing-1m.test.yml'];
    for (const t of tests)
      writeFileSync(
        join(dir, t),
        adapt(readFileSync(join(ALERTS, 'tests', t), 'utf8').replace('- ../ipmpd-rules.yml', `- ${file}`)),
      );
    const unit = await run('promtool', ['test', 'rules', ...tests], { cwd: dir });
    assert.equal(unit.stdout.match(/SUCCESS/g)?.length, tests.length, unit.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
