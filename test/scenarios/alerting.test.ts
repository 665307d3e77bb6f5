// The shipped alerts page as intended: ipmpd + a real Prometheus loaded with the shipped rules +
// a real Alertmanager with the shipped example configuration (timings
// shortened) paging a webhook. Both NICs cut: IPMPGroupFailed arrives with the
// right labels and is the only page (its inhibit rule silences the failed
// interfaces), then its resolution after repair. One NIC
// silently cut, then the other: the group fails and pages. Every
// panel and annotation query of every shipped dashboard runs against that Prometheus.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { DASHBOARD_DIR, RULES_FILE } from '../../mixin/build.js';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const WEBHOOK = fileURLToPath(new URL('./fixtures/webhook.js', import.meta.url));
const AM_EXAMPLE = fileURLToPath(new URL('../../../alerts/alertmanager.example.yml', import.meta.url));

/** The shipped Alertmanager example with test timings: routes, inhibit rules and receivers as shipped. */
function alertmanagerConfig(): string {
  const cfg = parse(readFileSync(AM_EXAMPLE, 'utf8')) as { route: Route };
  type Route = { group_wait?: string; group_interval?: string; repeat_interval?: string; routes?: Route[] };
  const shorten = (r: Route) => {
    // group_wait stays above an evaluation so that an interface alert and its group's failure meet in one flush
    if (r.group_wait) r.group_wait = '5s';
    if (r.group_interval) r.group_interval = '1s';
    r.routes?.forEach(shorten);
  };
  shorten(cfg.route);
  return stringify(cfg);
}

interface Notification {
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

describe('alerting end to end', { concurrency: false }, () => {
  let lab: Lab;
  let ipmpd: IpmpdProcess;
  const children: ChildProcess[] = [];
  const notifications: Array<{ at: number; path: string; n: Notification }> = [];
  let dir: string | undefined;

  async function query(q: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
    const r = await lab.exec(
      'ipmp',
      ['curl', '-s', '--get', 'http://127.0.0.1:9090/api/v1/query', '--data-urlencode', `query=${q}`],
      { allowFail: true },
    );
    // a starting Prometheus answers "Service Unavailable" in plain text: not up yet, ask again
    return r.code === 0 && r.stdout.startsWith('{')
      ? (JSON.parse(r.stdout) as { status: string; data: { result: unknown[] } })
      : { status: 'unreachable' };
  }
  async function amAlerts(
    alertname: string,
  ): Promise<Array<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }>> {
    const r = await lab.exec('ipmp', [
      'curl',
      '-s',
      '--get',
      'http://127.0.0.1:9093/api/v2/alerts',
      '--data-urlencode',
      `filter=alertname="${alertname}"`,
    ]);
    return JSON.parse(r.stdout) as Array<{
      labels: Record<string, string>;
      status: { state: string; inhibitedBy: string[] };
    }>;
  }
  async function waitNotification(
    what: string,
    pred: (n: Notification) => boolean,
    since: number,
    timeoutMs: number,
  ): Promise<Notification> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = notifications.find((x) => x.at >= since && pred(x.n));
      if (hit) return hit.n;
      if (Date.now() > end)
        throw new Error(
          `no ${what} within ${timeoutMs} ms; got ${JSON.stringify(notifications.map((x) => x.n.alerts.map((a) => `${a.labels.alertname}:${a.status}`)))}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  before(async () => {
    lab = await Lab.create(twoNicGroup());
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    dir = mkdtempSync(join(tmpdir(), 'ipmpd-alerting-'));
    writeFileSync(join(dir, 'alertmanager.yml'), alertmanagerConfig());
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['${RULES_FILE}']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:9093']\nscrape_configs:\n  - job_name: ipmpd\n    static_configs:\n      - targets: ['127.0.0.1:${ipmpd.port}']\n`,
    );
    const hook = lab.spawn('ipmp', ['node', WEBHOOK, '9095'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    hook.stdout!.setEncoding('utf8');
    hook.stdout!.on('data', (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as { path: string; body: Notification };
        notifications.push({ at: Date.now(), path: line.path, n: line.body });
        buf = buf.slice(nl + 1);
      }
    });
    children.push(hook);
    children.push(
      lab.spawn(
        'ipmp',
        [
          'prometheus-alertmanager',
          `--config.file=${join(dir, 'alertmanager.yml')}`,
          `--storage.path=${join(dir, 'am')}`,
          '--web.listen-address=127.0.0.1:9093',
          '--cluster.listen-address=',
        ],
        { stdio: 'ignore' },
      ),
    );
    children.push(
      lab.spawn(
        'ipmp',
        [
          'prometheus',
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          '--web.listen-address=127.0.0.1:9090',
        ],
        { stdio: 'ignore' },
      ),
    );
    const end = Date.now() + 30_000;
    while (((await query('up{job="ipmpd"} == 1')).data?.result.length ?? 0) === 0) {
      if (Date.now() > end) throw new Error('Prometheus never scraped ipmpd');
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  after(async () => {
    for (const c of children) await lab.stopProcess(c);
    await ipmpd?.stop();
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function groupState(): Promise<string | undefined> {
    const body = (await ipmpd.http('/metrics')).body;
    return /^ipmp_group_state\{group="unrealgrp1",state="(\w+)"\} 1$/m.exec(body)?.[1];
  }
  async function waitGroupState(state: string, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while ((await groupState()) !== state) {
      if (Date.now() > end) throw new Error(`group state ${await groupState()}, not ${state}, after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test('both NICs cut: IPMPGroupFailed pages with group and instance, and resolves after repair', async () => {
    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    await lab.cutCarrier('ipmp', 'eth1');
    // FDT (carrier: at once) + the 1m window + evaluation 1s + group_wait 1s, with room for a loaded machine
    const firing = await waitNotification(
      'IPMPGroupFailed firing',
      (n) => n.alerts.some((a) => a.labels.alertname === 'IPMPGroupFailed' && a.status === 'firing'),
      t0,
      120_000,
    );
    const alert = firing.alerts.find((a) => a.labels.alertname === 'IPMPGroupFailed')!;
    assert.equal(alert.labels.group, 'unrealgrp1');
    assert.equal(alert.labels.instance, `127.0.0.1:${ipmpd.port}`);
    assert.equal(alert.labels.severity, 'critical');
    assert.match(alert.annotations.description!, /Group unrealgrp1 on 127\.0\.0\.1:\d+ has no usable interface/);
    assert.equal(
      alert.annotations.dashboard_url,
      `https://grafana.example/d/ipmpd-host?var-job=ipmpd&var-instance=127.0.0.1%3A${ipmpd.port}&var-group=unrealgrp1`,
    );

    // The failed interfaces fire in Prometheus too, but the group's failure inhibits them: one page, not three.
    const silenced = ['IPMPGroupDegraded', 'IPMPInterfaceFailed', 'IPMPAddressUnheld'];
    const end = Date.now() + 30_000;
    while (
      ((await query('ALERTS{alertname="IPMPInterfaceFailed",alertstate="firing",group="unrealgrp1"}')).data?.result
        .length ?? 0) < 2
    ) {
      if (Date.now() > end) throw new Error('IPMPInterfaceFailed never fired for both NICs in Prometheus');
      await new Promise((r) => setTimeout(r, 500));
    }
    const inAlertmanager = await amAlerts('IPMPInterfaceFailed');
    assert.equal(inAlertmanager.length, 2, JSON.stringify(inAlertmanager));
    for (const a of inAlertmanager) {
      assert.equal(a.status.state, 'suppressed', `${a.labels.device}: ${JSON.stringify(a.status)}`);
      assert.ok(a.status.inhibitedBy.length > 0, `${a.labels.device} is not inhibited`);
    }
    await new Promise((r) => setTimeout(r, 7000)); // past group_wait and several group_intervals
    const during = notifications.filter((x) => x.at >= t0);
    const firingNames = (path: string) => [
      ...new Set(
        during
          .filter((x) => x.path === path)
          .flatMap((x) => x.n.alerts.filter((a) => a.status === 'firing').map((a) => a.labels.alertname)),
      ),
    ];
    assert.deepEqual(firingNames('/pager'), ['IPMPGroupFailed'], 'pages');
    assert.deepEqual(
      firingNames('/ticket').filter((n) => silenced.includes(n!)),
      [],
      'inhibited alerts were sent',
    );
    const t1 = Date.now();
    await lab.restoreCarrier('ipmp', 'eth0');
    await lab.restoreCarrier('ipmp', 'eth1');
    await waitNotification(
      'IPMPGroupFailed resolved',
      (n) => n.alerts.some((a) => a.labels.alertname === 'IPMPGroupFailed' && a.status === 'resolved'),
      t1,
      60_000,
    );
  });

  test('one NIC silently cut, then the other: the group fails and IPMPGroupFailed pages', async () => {
    await waitGroupState('ok', 30_000);
    const t0 = Date.now();
    await lab.silentCut('ipmp', 'eth0');
    await ipmpd.waitFor(
      'eth0 failed by probes',
      (l) => l.event === 'interface_failed' && l.interface === 'eth0' && l.at >= t0,
      10_000,
    );
    assert.equal(await groupState(), 'degraded');
    await new Promise((r) => setTimeout(r, 3000)); // several FDTs apart: not "every target lost at once"
    const t1 = Date.now();
    await lab.silentCut('ipmp', 'eth1');
    await waitGroupState('failed', 10_000);
    assert.equal(
      ipmpd.lines.filter((l) => l.event === 'targets_unreachable' && l.at >= t0).length,
      0,
      'taken for every target lost',
    );
    const firing = await waitNotification(
      'IPMPGroupFailed firing',
      (n) => n.alerts.some((a) => a.labels.alertname === 'IPMPGroupFailed' && a.status === 'firing'),
      t1,
      120_000,
    );
    assert.equal(firing.alerts.find((a) => a.labels.alertname === 'IPMPGroupFailed')!.labels.group, 'unrealgrp1');
    const t2 = Date.now();
    await lab.reattach('ipmp', 'eth0');
    await lab.reattach('ipmp', 'eth1');
    await waitGroupState('ok', 30_000);
    await waitNotification(
      'IPMPGroupFailed resolved',
      (n) => n.alerts.some((a) => a.labels.alertname === 'IPMPGroupFailed' && a.status === 'resolved'),
      t2,
      60_000,
    );
  });

  test('every panel query of every dashboard parses and returns data', async () => {
    for (const file of ['ipmpd-overview.json', 'ipmpd-host.json']) {
      const dash = JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as {
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      };
      for (const p of dash.panels) {
        for (const t of p.targets) {
          const expr = t.expr.replace(/\$__rate_interval/g, '1m').replace(/\$(job|instance|group|device)/g, '.+');
          const r = await query(expr);
          assert.equal(r.status, 'success', `${file} "${p.title}": ${expr}: ${r.error ?? r.status}`);
          assert.ok((r.data?.result.length ?? 0) > 0, `${file} "${p.title}" returns nothing on a live lab: ${expr}`);
        }
      }
    }
    // the host board's annotations: the NICs failed, were repaired and the address moved within the last minutes
    const host = JSON.parse(readFileSync(join(DASHBOARD_DIR, 'ipmpd-host.json'), 'utf8')) as {
      annotations: { list: Array<{ name: string; expr: string }> };
    };
    for (const a of host.annotations.list) {
      const expr = a.expr.replace(/\$__rate_interval/g, '10m').replace(/\$(job|instance|group|device)/g, '.+');
      const r = await query(expr);
      assert.equal(r.status, 'success', `annotation ${a.name}: ${expr}: ${r.error ?? r.status}`);
      assert.ok(
        (r.data?.result.length ?? 0) > 0,
        `annotation ${a.name} marks nothing after the failures above: ${expr}`,
      );
    }
  });
});
