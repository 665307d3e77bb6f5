// npm start's demo: it comes up, serves ipmpd's metrics on localhost of the
// root namespace, runs Prometheus and Alertmanager with the shipped rules when
// they are installed and shows the page when the whole group fails, and
// leaves nothing behind on SIGTERM.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { alertingBinaries } from '../../demo/alerting.js';
import { listNamespaces } from '../lab/cleanup.js';

const DEMO = fileURLToPath(new URL('../../demo/main.js', import.meta.url));
const PORT = 19740;
const PROMETHEUS_PORT = 19090;
const ALERTMANAGER_PORT = 19093;

describe('the demo', { concurrency: false }, () => {
  let demo: ChildProcessWithoutNullStreams;
  let out = '';
  let exited: Promise<number | null>;
  const demoTmp = () => readdirSync(tmpdir()).filter((n) => n.startsWith('ipmpd-demo-alerting-'));
  const tmpBefore = demoTmp();

  /** The output since `from`, up to the last full screen. */
  async function waitOutput(what: string, re: RegExp, from: number, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!re.test(out.slice(from))) {
      if (Date.now() > end) throw new Error(`the demo never showed ${what}; its output:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  before(() => {
    demo = spawn(process.execPath, [DEMO], {
      env: {
        ...process.env,
        IPMPD_DEMO_PORT: String(PORT),
        IPMPD_DEMO_PROMETHEUS_PORT: String(PROMETHEUS_PORT),
        IPMPD_DEMO_ALERTMANAGER_PORT: String(ALERTMANAGER_PORT),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    demo.stdout.on('data', (c: Buffer) => (out += c.toString()));
    demo.stderr.on('data', (c: Buffer) => (out += c.toString()));
    exited = new Promise<number | null>((r) => demo.on('exit', (code) => r(code)));
  });
  after(() => {
    if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGTERM');
  });

  test('serves metrics on localhost', async () => {
    let body = '';
    const end = Date.now() + 40_000;
    while (!/^ipmp_address_holder\{.*device="eth0"\} 1$/m.test(body) || !/ADDRESS\s+STATE\s+INBOUND/.test(out)) {
      if (Date.now() > end)
        throw new Error(`no metrics from the demo on localhost:${PORT}; its output:\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
      body = await fetch(`http://127.0.0.1:${PORT}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
    }
    assert.match(out, /metrics at http:\/\/127\.0\.0\.1:19740\/metrics/);
  });

  test(
    'runs Prometheus with the shipped rules, and the page shows when both NICs fail',
    { skip: alertingBinaries() ? false : 'prometheus and alertmanager are not installed' },
    async () => {
      await waitOutput(
        'the alerting line',
        /alerting: Prometheus http:\/\/127\.0\.0\.1:19090 {3}Alertmanager http:\/\/127\.0\.0\.1:19093/,
        0,
        20_000,
      );
      let rules: string[] = [];
      const end = Date.now() + 30_000;
      while (!rules.includes('IPMPGroupFailed')) {
        if (Date.now() > end)
          throw new Error(`Prometheus on localhost:${PROMETHEUS_PORT} never loaded the shipped rules`);
        await new Promise((r) => setTimeout(r, 500));
        const r = await fetch(`http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/rules`).then(
          (x) => x.json() as Promise<{ data: { groups: Array<{ rules: Array<{ name: string }> }> } }>,
          () => undefined,
        );
        rules = r?.data.groups.flatMap((g) => g.rules.map((x) => x.name)) ?? [];
      }
      assert.equal((await fetch(`http://127.0.0.1:${ALERTMANAGER_PORT}/-/ready`)).status, 200);
      const from = out.length;
      demo.stdin.write('nnnnn'); // the fifth fault: both NICs
      await waitOutput('the group failure injected', /last injected: .*cut the carrier of eth0 and eth1/, from, 30_000);
      // the 1 min window, a 15 s evaluation, the pager route's 5 s group_wait, a redraw
      await waitOutput(
        'the page',
        /IPMPGroupFailed\s+critical\s+unrealgrp1\s+firing[\s\S]*pager: IPMPGroupFailed unrealgrp1 firing/,
        from,
        150_000,
      );
    },
  );

  test('tears down on SIGTERM and leaves nothing behind', async () => {
    demo.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.deepEqual(
      listNamespaces().filter((n) => n.startsWith(`ipmpd-${demo.pid}-`)),
      [],
    );
    assert.deepEqual(demoTmp(), tmpBefore);
  });
});
