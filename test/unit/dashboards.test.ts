import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DASHBOARD_DIR, renderDashboards } from '../../mixin/build.js';

const dashboards = Object.entries(renderDashboards()).map(([file, json]) => ({
  file,
  json,
  d: JSON.parse(json) as Record<string, any>,
}));

test('the committed dashboards are what mixin/ generates', () => {
  for (const { file, json } of dashboards)
    assert.equal(readFileSync(`${DASHBOARD_DIR}${file}`, 'utf8'), json, `run npm run mixin: ${file} is stale`);
});

test('every panel uses $datasource, has a title, a description and a unit; rates use $__rate_interval; counters are never graphed raw', () => {
  for (const { file, d } of dashboards) {
    const vars = d.templating.list.map((v: { name: string }) => v.name);
    for (const v of ['datasource', 'job', 'instance', 'group']) assert.ok(vars.includes(v), `${file}: no $${v}`);
    for (const p of d.panels) {
      const where = `${file} "${p.title}"`;
      assert.equal(p.datasource.uid, '${datasource}', where);
      assert.ok(p.title && p.description, where);
      assert.ok(p.fieldConfig.defaults.unit, `${where}: no unit`);
      for (const t of p.targets) {
        assert.equal(t.datasource.uid, '${datasource}', where);
        for (const m of t.expr.matchAll(/\b(rate|irate|increase)\([^[]*\[([^\]]+)\]/g))
          assert.equal(m[2], '$__rate_interval', `${where}: ${t.expr}`);
        for (const m of t.expr.matchAll(/\b(ipmp_[a-z_]+_total)\b/g)) {
          const before = t.expr.slice(0, m.index);
          assert.match(before, /(rate|increase)\($/, `${where}: counter ${m[1]} graphed raw`);
        }
        assert.match(t.expr, /job=~"\$job",instance=~"\$instance"/, `${where}: no job/instance matchers`);
      }
    }
  }
});

const byUid = (uid: string) => dashboards.find(({ d }) => d.uid === uid)!.d;

test('stable uids and tags, shared crosshair', () => {
  assert.deepEqual(
    dashboards.map(({ file, d }) => [file, d.uid]),
    [
      ['ipmpd-overview.json', 'ipmpd-overview'],
      ['ipmpd-host.json', 'ipmpd-host'],
    ],
  );
  for (const { file, d } of dashboards) {
    assert.deepEqual(d.tags, ['ipmpd', 'ipmp'], file);
    assert.equal(d.graphTooltip, 1, `${file}: no shared crosshair`);
    assert.equal(d.id, undefined, `${file}: a fixed numeric id clashes on import`);
  }
});

test('the fleet and host boards link to each other carrying variables and time', () => {
  for (const [from, to] of [
    ['ipmpd-overview', 'ipmpd-host'],
    ['ipmpd-host', 'ipmpd-overview'],
  ] as const) {
    const link = byUid(from).links.find((l: { url: string }) => l.url === `/d/${to}`);
    assert.ok(link, `${from} has no link to ${to}`);
    assert.equal(link.includeVars, true, `${from} → ${to} drops the variables`);
    assert.equal(link.keepTime, true, `${from} → ${to} drops the time range`);
  }
  // a row of the fleet's state timeline opens that instance and group on the host board
  const timeline = byUid('ipmpd-overview').panels.find((p: { title: string }) => p.title === 'Group state by instance');
  const url: string = timeline.fieldConfig.defaults.links[0].url;
  assert.match(url, /^\/d\/ipmpd-host\?/);
  for (const part of [
    '${datasource:queryparam}',
    '${job:queryparam}',
    'var-instance=${__field.labels.instance}',
    'var-group=${__field.labels.group}',
    '${__url_time_range}',
  ])
    assert.ok(url.includes(part), `${url} lacks ${part}`);
  const hostVars = byUid('ipmpd-host').templating.list.map((v: { name: string }) => v.name);
  for (const m of url.matchAll(/\$\{(\w+):queryparam\}|var-(\w+)=/g))
    assert.ok(hostVars.includes(m[1] ?? m[2]), `host board has no $${m[1] ?? m[2]}`);
});

test('the host board annotates failovers, interface failures and repairs from the counters', () => {
  const list: Array<{ name: string; expr: string; enable: boolean; datasource: { uid: string } }> =
    byUid('ipmpd-host').annotations.list;
  const counters = {
    Failovers: 'ipmp_failovers_total',
    'Interface failures': 'ipmp_interface_failures_total',
    'Interface repairs': 'ipmp_interface_repairs_total',
  };
  assert.deepEqual(
    list.map((a) => a.name),
    Object.keys(counters),
  );
  for (const a of list) {
    assert.ok(a.enable, a.name);
    assert.equal(a.datasource.uid, '${datasource}', a.name);
    assert.match(
      a.expr,
      new RegExp(
        `increase\\(${counters[a.name as keyof typeof counters]}\\{job=~"\\$job",instance=~"\\$instance",group=~"\\$group"[^}]*\\}\\[\\$__rate_interval\\]\\)\\) > 0$`,
      ),
      a.expr,
    );
  }
});
