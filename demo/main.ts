// npm start: the seed's two-NIC host in a network-namespace lab with ipmpd
// running in it, its metrics on localhost, a live view, and a failure and
// repair injected on a schedule (or on keys), now and then of the whole group.
// With Prometheus and Alertmanager installed, they run in the lab with the
// shipped rules and the live view shows the alerts and the pages. Everything
// is torn down on exit.

import { Lab } from '../test/lab/lab.js';
import { twoNicGroup, TWO_NIC_GROUP_DATA6 } from '../test/lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from '../test/scenarios/ipmpd.js';
import { adminRequest } from '../src/admin/client.js';
import type { EngineSnapshot } from '../src/core/snapshot.js';
import { ALERTMANAGER_PORT, alertingBinaries, DemoAlerting, PROMETHEUS_PORT } from './alerting.js';
import { forwardPort } from './forward.js';
import { render } from './view.js';

const PORT = Number(process.env.IPMPD_DEMO_PORT ?? 9740);
const PROMETHEUS_LOCAL_PORT = Number(process.env.IPMPD_DEMO_PROMETHEUS_PORT ?? 9090);
const ALERTMANAGER_LOCAL_PORT = Number(process.env.IPMPD_DEMO_ALERTMANAGER_PORT ?? 9093);
const STEP_MS = 15_000;
/** Long enough for IPMPGroupFailed (1 min window) to fire and page. */
const GROUP_FAILURE_MS = 100_000;

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('the demo builds Linux network namespaces: it needs Linux');
  if (process.getuid?.() !== 0) throw new Error('the demo builds network namespaces: run it as root (sudo npm start)');

  process.stdout.write(
    'building the lab (switch, router, two targets, a client, the IPMP host with eth0 and eth1)...\n',
  );
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '2s', data6: TWO_NIC_GROUP_DATA6 }));
  await ipmpd.waitFor('ipmpd to place the data address', (l) => l.event === 'address_moved', 20_000);
  await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
  const forwards = [await forwardPort(lab.ns('ipmp'), ipmpd.port, PORT)];

  const bin = alertingBinaries();
  const alerting = bin ? DemoAlerting.start(lab, bin, ipmpd.port) : undefined;
  const uiNotes: string[] = [];
  if (alerting) {
    for (const [name, inner, local] of [
      ['Prometheus', PROMETHEUS_PORT, PROMETHEUS_LOCAL_PORT],
      ['Alertmanager', ALERTMANAGER_PORT, ALERTMANAGER_LOCAL_PORT],
    ] as const) {
      try {
        forwards.push(await forwardPort(lab.ns('ipmp'), inner, local));
        uiNotes.push(`${name} http://127.0.0.1:${local}`);
      } catch (err) {
        uiNotes.push(`${name} not on localhost (${(err as Error).message})`);
      }
    }
  }

  // [what, how long until the next step]: eth0 fails and recovers (the group degrades),
  // then both NICs fail long enough for the page.
  const schedule: Array<[string, () => Promise<void>, number]> = [
    ['cut the carrier of eth0 (link failure)', () => lab.cutCarrier('ipmp', 'eth0'), STEP_MS],
    ['restore the carrier of eth0 (repair, failback)', () => lab.restoreCarrier('ipmp', 'eth0'), STEP_MS],
    [
      'detach eth0 from the switch (silent failure: link up, traffic dead)',
      () => lab.silentCut('ipmp', 'eth0'),
      STEP_MS,
    ],
    ['reattach eth0 (repair after ten answered probes, failback)', () => lab.reattach('ipmp', 'eth0'), STEP_MS],
    [
      `cut the carrier of eth0 and eth1 (the group fails, for ${GROUP_FAILURE_MS / 1000} s: the page)`,
      async () => {
        await lab.cutCarrier('ipmp', 'eth0');
        await lab.cutCarrier('ipmp', 'eth1');
      },
      GROUP_FAILURE_MS,
    ],
    [
      'restore the carrier of eth0 and eth1 (the group recovers, the page resolves)',
      async () => {
        await lab.restoreCarrier('ipmp', 'eth0');
        await lab.restoreCarrier('ipmp', 'eth1');
      },
      2 * STEP_MS,
    ],
  ];
  let step = 0;
  let last = 'none yet';
  let timer: NodeJS.Timeout | undefined;
  let injecting = Promise.resolve();
  // one step at a time, in order, however fast `n` is pressed
  const inject = () =>
    (injecting = injecting.then(async () => {
      clearTimeout(timer);
      const [what, act, holdMs] = schedule[step % schedule.length]!;
      step++;
      last = `${new Date().toLocaleTimeString()}: ${what}`;
      try {
        await act();
      } catch (err) {
        last += ` (failed: ${(err as Error).message})`;
      }
      if (!stopping) timer = setTimeout(injectNext, holdMs);
    }));
  // the chain catches each step's failure itself; this only keeps the lint honest
  const injectNext = () => {
    inject().catch((err: Error) => {
      last += ` (failed: ${err.message})`;
    });
  };
  timer = setTimeout(injectNext, STEP_MS);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    clearInterval(draw);
    for (const f of forwards) f.close();
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdout.write('\ntearing the lab down...\n');
    await ipmpd.stop();
    await lab.destroy();
    alerting?.cleanup();
    process.exit(0);
  };
  const stopNow = () => {
    stop().catch((err: Error) => {
      process.stderr.write(`ipmpd demo: stopping failed: ${err.message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', stopNow);
  process.on('SIGTERM', stopNow);
  // keys on a terminal, or the same letters piped in (scripts, the demo's test)
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.on('data', (k: Buffer) => {
    for (const key of k.toString()) {
      if (key === 'q' || key === '\u0003') stopNow();
      if (key === 'n') injectNext();
    }
  });
  process.stdin.on('error', () => undefined); // a closed pipe is no reason to stop

  let drawing = false; // a slow Alertmanager query must not stack redraws
  const redraw = async () => {
    if (drawing) return;
    drawing = true;
    try {
      const r = await adminRequest(ipmpd.adminSocket, { op: 'status' });
      if (!r.ok) return;
      const alerts = alerting
        ? `alerting: ${uiNotes.join('   ')} (rules: alerts/ipmpd-rules.yml, routing: alerts/alertmanager.example.yml)\n${await alerting.view()}`
        : 'alerting: install Prometheus and Alertmanager (apt-get install prometheus prometheus-alertmanager) to see the alerts fire and page here\n';
      const screen =
        render(r.result as EngineSnapshot, [
          `ipmpd demo: metrics at http://127.0.0.1:${PORT}/metrics   status at http://127.0.0.1:${PORT}/api/v1/status`,
          `the client 198.18.11.50 talks to the floating address 198.18.11.5; a fault every ${STEP_MS / 1000} s, the whole group now and then   keys: n = next fault now, q = quit`,
          `last injected: ${last}`,
        ]) + `\n${alerts}`;
      process.stdout.write(process.stdout.isTTY ? `\x1b[2J\x1b[H${screen}` : `${screen}\n`);
    } catch {
      // the daemon is restarting or stopping; try again next second
    } finally {
      drawing = false;
    }
  };
  // redraw() catches everything itself; the catch here is for the lint's sake
  const draw = setInterval(() => {
    redraw().catch(() => undefined);
  }, 1000);
}

main().catch((err: Error) => {
  process.stderr.write(`ipmpd demo: ${err.message}\n`);
  process.exit(1);
});
