import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { renderRules, RULES_FILE } from '../../mixin/build.js';
import { parse } from 'yaml';
import { hostDashboard, overviewDashboard } from '../../mixin/dashboards.js';
import { alerts } from '../../mixin/rules.js';
import { Exporter } from '../../src/metrics/exporter.js';
import { Sim, twoNicConfig } from './core/sim.js';

const ALERTS = fileURLToPath(new URL('../../../alerts/', import.meta.url));
const run = promisify(execFile);
const TEST_FILES = ['tests/ipmpd-rules.test.yml', 'tests/aliasing-15s.test.yml', 'tests/aliasing-1m.test.yml'];

test('the committed rules file is what mixin/ generates', () => {
  assert.equal(
    readFileSync(RULES_FILE, 'utf8'),
    renderRules(),
    'run `npm run mixin` and commit alerts/ipmpd-rules.yml',
  );
});

test('promtool check rules and the rule unit tests pass', async () => {
  const check = await run('promtool', ['check', 'rules', RULES_FILE]);
  assert.match(check.stdout, /SUCCESS/);
  const unit = await run('promtool', ['test', 'rules', ...TEST_FILES], { cwd: ALERTS });
  assert.equal(unit.stdout.match(/SUCCESS/g)?.length, TEST_FILES.length, unit.stdout);
});

test('the aliasing tests run the same signals at evaluation intervals of 15s and 1m', () => {
  const at = (ev: string) => readFileSync(`${ALERTS}tests/aliasing-${ev}.test.yml`, 'utf8');
  assert.match(at('15s'), /^evaluation_interval: 15s$/m);
  assert.match(at('1m'), /^evaluation_interval: 1m$/m);
  const same = (t: string) => t.replace(/^evaluation_interval: .*$/m, '').replace(/aliasing-(15s|1m)\.test\.yml/g, '');
  assert.equal(same(at('1m')), same(at('15s')));
});

test('every alert has a unit test and a runbook entry', () => {
  const tests = readFileSync(`${ALERTS}tests/ipmpd-rules.test.yml`, 'utf8');
  const runbook = readFileSync(`${ALERTS}RUNBOOK.md`, 'utf8');
  for (const a of alerts) {
    assert.match(tests, new RegExp(`alertname: ${a.alert}\\n`), `${a.alert} has no promtool test`);
    assert.match(runbook, new RegExp(`^## ${a.alert}$`, 'm'), `${a.alert} has no runbook section`);
  }
});

test('every ipmp_ metric the rules use is one ipmpd exports', async () => {
  const sim = new Sim(twoNicConfig(), { seed: 1 });
  sim.runFor(5000);
  const exporter = new Exporter(
    () => sim.engine.snapshot(),
    (ms) => ms / 1000,
    { version: 't', revision: 't' },
  );
  const exported = new Set(
    [...(await exporter.scrape()).body.toString().matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!),
  );
  // raw metric names, not the ipmp_ part of recording-rule names (level:metric:operations)
  const used = new Set(renderRules().match(/(?<![:\w])ipmp_[a-z_]+(?![:\w])/g));
  for (const name of used) {
    const base = name.replace(/_(bucket|count|sum)$/, '');
    assert.ok(exported.has(name) || exported.has(base), `rules use ${name}, which ipmpd does not export`);
  }
});

test('every alert links to the board that shows it, with the variables its labels fill', () => {
  const host = hostDashboard();
  const hostVars = (host.templating as { list: Array<{ name: string }> }).list.map((v) => v.name);
  const doc = parse(renderRules()) as {
    groups: Array<{ rules: Array<{ alert?: string; expr: string; annotations?: Record<string, string> }> }>;
  };
  for (const rule of doc.groups.flatMap((g) => g.rules).filter((r) => r.alert)) {
    const url = rule.annotations!.dashboard_url!;
    if (url.endsWith(`/d/${overviewDashboard().uid as string}`)) continue; // no host to pick: the fleet board
    const m = /^https:\/\/grafana\.example\/d\/([\w-]+)\?(.*)$/.exec(url);
    assert.ok(m, `${rule.alert}: ${url}`);
    assert.equal(m[1], host.uid, rule.alert);
    const vars = [...m[2]!.matchAll(/var-(\w+)=\{\{ \$labels\.(\w+) \| urlquery \}\}/g)];
    assert.equal(vars.length, m[2]!.split('&').length, `${rule.alert}: ${url}`);
    assert.ok(
      vars.some((v) => v[1] === 'instance'),
      `${rule.alert}: no instance`,
    );
    for (const [, name, label] of vars) {
      assert.equal(name, label, rule.alert);
      assert.ok(hostVars.includes(name!), `${rule.alert}: the host board has no $${name}`);
    }
  }
});

test('amtool accepts the Alertmanager example; it pages criticals and tickets the rest', async () => {
  const file = `${ALERTS}alertmanager.example.yml`;
  const check = await run('amtool', ['check-config', file]);
  assert.match(check.stdout, /SUCCESS/);
  assert.match(check.stdout, /1 inhibit rules/);
  const route = async (...labels: string[]) =>
    (await run('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels])).stdout.trim();
  assert.equal(await route('alertname=IPMPGroupFailed', 'severity=critical', 'instance=h1', 'group=g'), 'pager');
  assert.equal(await route('alertname=IPMPInterfaceFailed', 'severity=warning', 'instance=h1', 'group=g'), 'ticket');
});
