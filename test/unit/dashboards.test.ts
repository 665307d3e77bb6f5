import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DASHBOARD_DIR, renderDashboards } from '../../mixin/build.js';

const dashboards = Object.entries(renderDashboards()).map(([file, json]) => ({ file, json, d: JSON.parse(json) as Record<string, any> }));

test('the committed dashboards are what mixin/ generates', () => {
  for (const { file, json } of dashboards) assert.equal(readFileSync(`${DASHBOARD_DIR}${file}`, 'utf8'), json, `run npm run mixin: ${file} is stale`);
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
        for (const m of t.expr.matchAll(/\b(rate|irate|increase)\([^[]*\[([^\]]+)\]/g)) assert.equal(m[2], '$__rate_interval', `${where}: ${t.expr}`);
        for (const m of t.expr.matchAll(/\b(ipmp_[a-z_]+_total)\b/g)) {
          const before = t.expr.slice(0, m.index);
          assert.match(before, /(rate|increase)\($/, `${where}: counter ${m[1]} graphed raw`);
        }
        assert.match(t.expr, /job=~"\$job",instance=~"\$instance"/, `${where}: no job/instance matchers`);
      }
    }
  }
});
