// Issue 6's proof: ipmpd + a real Prometheus loaded with the shipped rules +
// a real Alertmanager paging a webhook. Both NICs cut: IPMPGroupFailed
// arrives with the right labels, then its resolution after repair. One NIC
// silently cut, then the other (issue 13): the group fails and pages. Every
// panel query of every shipped dashboard runs against that Prometheus.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_DIR, RULES_FILE } from '../../mixin/build.js';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const WEBHOOK = fileURLToPath(new URL('./fixtures/webhook.js', import.meta.url));

interface Notification {
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

describe('alerting end to end', { concurrency: false }, () => {
  let lab: Lab;
  let ipmpd: IpmpdProcess;
  const children: ChildProcess[] = [];
  const notifications: Array<{ at: number; n: Notification }> = [];
  let dir: string | undefined;

  async function query(q: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
    const r = await lab.exec('ipmp', ['curl', '-s', '--get', 'http://127.0.0.1:9090/api/v1/query', '--data-urlencode', `query=${q}`], { allowFail: true });
    // a starting Prometheus answers "Service Unavailable" in plain text: not up yet, ask again
    return r.code === 0 && r.stdout.startsWith('{') ? (JSON.parse(r.stdout) as { status: string; data: { result: unknown[] } }) : { status: 'unreachable' };
  }
  async function waitNotification(what: string, pred: (n: Notification) => boolean, since: number, timeoutMs: number): Promise<Notification> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = notifications.find((x) => x.at >= since && pred(x.n));
      if (hit) return hit.n;
      if (Date.now() > end) throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(notifications.map((x) => x.n.alerts.map((a) => `${a.labels.alertname}:${a.status}`)))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  before(async () => {
    lab = await Lab.create(twoNicGroup());
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    dir = mkdtempSync(join(tmpdir(), 'ipmpd-alerting-'));
    writeFileSync(join(dir, 'alertmanager.yml'), `route:\n  receiver: pager\n  group_by: [alertname, instance, group]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: pager\n    webhook_configs:\n      - url: http://127.0.0.1:9095/pager\n        send_resolved: true\n`);
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['${RULES_FILE}']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:9093']\nscrape_configs:\n  - job_name: ipmpd\n    static_configs:\n      - targets: ['127.0.0.1:${ipmpd.port}']\n`);
    const hook = lab.spawn('ipmp', ['node', WEBHOOK, '9095'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    hook.stdout!.setEncoding('utf8');
    hook.stdout!.on('data', (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        notifications.push({ at: Date.now(), n: (JSON.parse(buf.slice(0, nl)) as { body: Notification }).body });
        buf = buf.slice(nl + 1);
      }
    });
    children.push(hook);
    children.push(lab.spawn('ipmp', ['prometheus-alertmanager', `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`, '--web.listen-address=127.0.0.1:9093', '--cluster.listen-address='], { stdio: 'ignore' }));
    children.push(lab.spawn('ipmp', ['prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:9090'], { stdio: 'ignore' }));
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
    const firing = await waitNotification('IPMPGroupFailed firing', (n) => n.alerts.some((a) => a.labels.alertname === 'IPMPGroupFailed' && a.status === 'firing'), t0, 120_000);
    const alert = firing.alerts.find((a) => a.labels.alertname === 'IPMPGroupFailed')!;
    assert.equal(alert.labels.group, 'unrealgrp1');
    assert.equal(alert.labels.instance, `127.0.0.1:${ipmpd.port}`);
    assert.equal(alert.labels.severity, 'critical');
    assert.match(alert.annotations.description!, /Group unrealgrp1 on 127\.0\.0\.1:\d+ has no usable interface/);
    const t1 = Date.now();
    await lab.restoreCarrier('ipmp', 'eth0');
    await lab.restoreCarrier('ipmp', 'eth1');
    await waitNotification('IPMPGroupFailed resolved', (n) => n.alerts.some((a) => a.labels.alertname === 'IPMPGroupFailed' && a.status === 'resolved'), t1, 60_000);
  });

  test('one NIC silently cut, then the other: the group fails and IPMPGroupFailed pages', async () => {
    await waitGroupState('ok', 30_000);
    const t0 = Date.now();
    await lab.silentCut('ipmp', 'eth0');
    await ipmpd.waitFor('eth0 failed by probes', (l) => l.event === 'interface_failed' && l.interface === 'eth0' && l.at >= t0, 10_000);
    assert.equal(await groupState(), 'degraded');
    await new Promise((r) => setTimeout(r, 3000)); // several FDTs apart: not "every target lost at once"
    const t1 = Date.now();
    await lab.silentCut('ipmp', 'eth1');
    await waitGroupState('failed', 10_000);
    assert.equal(ipmpd.lines.filter((l) => l.event === 'targets_unreachable' && l.at >= t0).length, 0, 'taken for every target lost');
    const firing = await waitNotification('IPMPGroupFailed firing', (n) => n.alerts.some((a) => a.labels.alertname === 'IPMPGroupFailed' && a.status === 'firing'), t1, 120_000);
    assert.equal(firing.alerts.find((a) => a.labels.alertname === 'IPMPGroupFailed')!.labels.group, 'unrealgrp1');
    const t2 = Date.now();
    await lab.reattach('ipmp', 'eth0');
    await lab.reattach('ipmp', 'eth1');
    await waitGroupState('ok', 30_000);
    await waitNotification('IPMPGroupFailed resolved', (n) => n.alerts.some((a) => a.labels.alertname === 'IPMPGroupFailed' && a.status === 'resolved'), t2, 60_000);
  });

  test('every panel query of every dashboard parses and returns data', async () => {
    for (const file of ['ipmpd-overview.json', 'ipmpd-host.json']) {
      const dash = JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
      for (const p of dash.panels) {
        for (const t of p.targets) {
          const expr = t.expr.replace(/\$__rate_interval/g, '1m').replace(/\$(job|instance|group|device)/g, '.+');
          const r = await query(expr);
          assert.equal(r.status, 'success', `${file} "${p.title}": ${expr}: ${r.error ?? r.status}`);
          assert.ok((r.data?.result.length ?? 0) > 0, `${file} "${p.title}" returns nothing on a live lab: ${expr}`);
        }
      }
    }
  });
});
