// The exporter on the real kernel: a real Prometheus scrapes ipmpd across a
// failover; promtool lints a live scrape; `ipmpd stat` and offline/online go
// through the admin socket; the HTTP port refuses anything that writes.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const PROM_PORT = 9090;

async function promQuery(
  lab: Lab,
  query: string,
  time?: number,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const args = [
    'curl',
    '-sf',
    '--get',
    `http://127.0.0.1:${PROM_PORT}/api/v1/query`,
    '--data-urlencode',
    `query=${query}`,
  ];
  if (time !== undefined) args.push('--data-urlencode', `time=${time / 1000}`);
  const r = await lab.exec('ipmp', args, { allowFail: true });
  if (r.code !== 0) return []; // Prometheus not listening yet
  const body = JSON.parse(r.stdout) as {
    status: string;
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  assert.equal(body.status, 'success', `query ${query} failed`);
  return body.data.result;
}

async function until<T>(what: string, get: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const single = async (lab: Lab, q: string) => {
  const r = await promQuery(lab, q);
  return r.length === 1 ? Number(r[0]!.value[1]) : undefined;
};

describe('exporter, Prometheus, stat and admin on the real kernel', { concurrency: false }, () => {
  let lab: Lab;
  let ipmpd: IpmpdProcess;
  let prometheus: ChildProcess;
  let dir: string | undefined;

  before(async () => {
    lab = await Lab.create(twoNicGroup());
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    dir = mkdtempSync(join(tmpdir(), 'ipmpd-prom-'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: ipmpd\n    static_configs:\n      - targets: ['127.0.0.1:${ipmpd.port}']\n`,
    );
    prometheus = lab.spawn(
      'ipmp',
      [
        'prometheus',
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${PROM_PORT}`,
      ],
      { stdio: 'ignore' },
    );
    await until('Prometheus to scrape ipmpd', () => single(lab, 'up{job="ipmpd"} == 1'), 30_000);
  });
  after(async () => {
    try {
      if (prometheus) await lab.stopProcess(prometheus);
      await ipmpd?.stop();
      await lab?.destroy();
    } finally {
      // Prometheus's config and database
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('promtool check metrics finds nothing to complain about in a live scrape', async () => {
    const scrape = await ipmpd.http('/metrics');
    assert.equal(scrape.status, 200);
    const r = await lab.exec('ipmp', ['promtool', 'check', 'metrics'], { input: scrape.body, allowFail: true });
    assert.equal(r.code, 0, `promtool: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout.trim(), '');
    for (const name of [
      'ipmp_build_info',
      'ipmp_probe_requests_total',
      'ipmp_probe_rtt_seconds_bucket',
      'ipmp_interface_state',
      'ipmp_group_state',
      'ipmp_address_holder',
      'ipmp_failovers_total',
      'process_cpu_seconds_total',
    ]) {
      assert.match(scrape.body, new RegExp(`^${name}[{ ]`, 'm'), `${name} missing`);
    }
  });

  test('across a failover Prometheus sees the holder switch, the failure, and exactly one more failover', async () => {
    await until(
      'RTT series per target',
      async () =>
        (await promQuery(lab, 'ipmp_probe_rtt_seconds_count{target="198.18.11.1"} > 0')).length === 2
          ? true
          : undefined,
      20_000,
    );
    const before = Date.now();
    const failoversBefore = (await single(lab, 'sum(ipmp_failovers_total{reason="link"})')) ?? 0;
    assert.equal(await single(lab, 'ipmp_address_holder{device="eth0"}'), 1);
    await lab.cutCarrier('ipmp', 'eth0');
    await until(
      'holder on eth1',
      async () => ((await single(lab, 'ipmp_address_holder{device="eth1"}')) === 1 ? true : undefined),
      20_000,
    );
    assert.equal(await single(lab, 'ipmp_address_holder{device="eth0"}'), 0);
    assert.equal(await single(lab, 'ipmp_interface_failed{device="eth0"}'), 1);
    assert.equal(await single(lab, 'ipmp_interface_state{device="eth0",state="failed"}'), 1);
    assert.equal(await single(lab, 'ipmp_group_state{state="degraded"}'), 1);
    assert.equal(await single(lab, 'sum(ipmp_failovers_total{reason="link"})'), failoversBefore + 1);
    assert.equal(
      await single(lab, 'max_over_time(ipmp_address_holder{device="eth0"}[5m])'),
      1,
      'the earlier holder is not in the history',
    );
    const loss = await promQuery(lab, 'ipmp_interface_probe_loss_ratio');
    assert.equal(loss.length, 2);
    assert.ok(before > 0);
  });

  test('ipmpd stat shows what the daemon knows, in every view', async () => {
    const stat = async (...args: string[]) =>
      (await lab.exec('ipmp', ['node', MAIN, 'stat', '--admin.socket', ipmpd.adminSocket, ...args])).stdout;
    const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as {
      groups: Array<{ state: string; addresses: Array<{ holder: string }> }>;
    };
    assert.equal(await stat('-g', '-P', '-o', 'group,state'), `unrealgrp1:${status.groups[0]!.state}\n`);
    assert.equal(await stat('-i', '-P', '-o', 'interface,state,link'), 'eth0:failed:down\neth1:ok:up\n');
    assert.equal(
      await stat('-a', '-P', '-o', 'address,inbound'),
      `198.18.11.5:${status.groups[0]!.addresses[0]!.holder}\n`,
    );
    assert.equal(
      await stat('-t', '-P', '-o', 'interface,mode,targets'),
      'eth0:routes:198.18.11.1\neth1:routes:198.18.11.1\n',
    );
    const json = JSON.parse(await stat('-i', '--json')) as Array<{ interface: string; active: string }>;
    assert.deepEqual(
      json.map((r) => [r.interface, r.active]),
      [
        ['eth0', 'no'],
        ['eth1', 'yes'],
      ],
    );
  });

  test('offline is refused when it would strand the group; offline/online move the address', async () => {
    const admin = (op: string, ifname: string) =>
      lab.exec('ipmp', ['node', MAIN, op, ifname, '--admin.socket', ipmpd.adminSocket], { allowFail: true });
    const refused = await admin('offline', 'eth1');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /no other functioning interfaces/);
    await lab.restoreCarrier('ipmp', 'eth0');
    await ipmpd.waitFor(
      'failback to eth0',
      (l) => l.event === 'address_moved' && l.to === 'eth0' && l.reason === 'failback',
      15_000,
    );
    const off = await admin('offline', 'eth0');
    assert.equal(off.code, 0, off.stderr);
    const onEth1 = await ipmpd.waitFor(
      'admin move to eth1',
      (l) => l.event === 'address_moved' && l.to === 'eth1' && l.reason === 'admin',
      5000,
    );
    assert.ok(onEth1);
    const on = await admin('online', 'eth0');
    assert.equal(on.code, 0, on.stderr);
    await ipmpd.waitFor(
      'admin move back to eth0',
      (l) => l.event === 'address_moved' && l.to === 'eth0' && l.reason === 'admin' && l.at >= onEth1.at,
      5000,
    );
    const unknown = await admin('offline', 'eth9');
    assert.match(unknown.stderr, /eth9 is not in any group/);
  });

  test('/api/v1/status timestamps are Unix time in seconds', async () => {
    const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as {
      at: number;
      groups: Array<{ interfaces: Array<{ lastChangeAt: number }> }>;
    };
    const now = Date.now() / 1000;
    assert.ok(Math.abs(status.at - now) < 5, `at ${status.at}, now ${now}`);
    for (const i of status.groups[0]!.interfaces)
      assert.ok(i.lastChangeAt > now - 600 && i.lastChangeAt <= status.at + 0.001, `lastChangeAt ${i.lastChangeAt}`);
  });

  test('the HTTP port is read-only and bounded', async () => {
    for (const [path, method] of [
      ['/metrics', 'POST'],
      ['/-/reload', 'POST'],
      ['/api/v1/status', 'PUT'],
      ['/api/v1/status', 'DELETE'],
    ] as const) {
      const r = await ipmpd.http(path, method);
      assert.equal(r.status, 405, `${method} ${path}`);
    }
    assert.equal((await ipmpd.http('/-/healthy')).status, 200);
    assert.equal((await ipmpd.http('/-/ready')).status, 200);
    assert.equal((await ipmpd.http('/nope')).status, 404);
    assert.match((await ipmpd.http('/')).body, /href="metrics"/);
  });
});
