// npm start: the seed's two-NIC host in a network-namespace lab with ipmpd
// running in it, its metrics on localhost, a live view, and a failure and
// repair injected on a schedule (or on keys). Everything is torn down on exit.

import { Lab } from '../test/lab/lab.js';
import { twoNicGroup, TWO_NIC_GROUP_DATA6 } from '../test/lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from '../test/scenarios/ipmpd.js';
import { adminRequest } from '../src/admin/client.js';
import type { EngineSnapshot } from '../src/core/snapshot.js';
import { forwardPort } from './forward.js';
import { render } from './view.js';

const PORT = Number(process.env.IPMPD_DEMO_PORT ?? 9740);
const STEP_MS = 15_000;

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('the demo builds Linux network namespaces: it needs Linux');
  if (process.getuid?.() !== 0) throw new Error('the demo builds network namespaces: run it as root (sudo npm start)');

  process.stdout.write('building the lab (switch, router, two targets, a client, the IPMP host with eth0 and eth1)...\n');
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '2s', data6: TWO_NIC_GROUP_DATA6 }));
  await ipmpd.waitFor('ipmpd to place the data address', (l) => l.event === 'address_moved', 20_000);
  await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
  const forward = await forwardPort(lab.ns('ipmp'), ipmpd.port, PORT);

  const schedule: Array<[string, () => Promise<void>]> = [
    ['cut the carrier of eth0 (link failure)', () => lab.cutCarrier('ipmp', 'eth0')],
    ['restore the carrier of eth0 (repair, failback)', () => lab.restoreCarrier('ipmp', 'eth0')],
    ['detach eth0 from the switch (silent failure: link up, traffic dead)', () => lab.silentCut('ipmp', 'eth0')],
    ['reattach eth0 (repair after ten answered probes, failback)', () => lab.reattach('ipmp', 'eth0')],
  ];
  let step = 0;
  let last = 'none yet';
  const inject = async () => {
    const [what, act] = schedule[step % schedule.length]!;
    step++;
    last = `${new Date().toLocaleTimeString()}: ${what}`;
    await act();
  };
  // a fault that cannot be injected is shown, not fatal: the demo goes on
  const injectNext = () => {
    inject().catch((err: Error) => {
      last = `${last} (failed: ${err.message})`;
    });
  };
  const timer = setInterval(injectNext, STEP_MS);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    clearInterval(draw);
    forward.close();
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdout.write('\ntearing the lab down...\n');
    await ipmpd.stop();
    await lab.destroy();
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
  if (process.stdin.isTTY) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', (k: Buffer) => {
      const key = k.toString();
      if (key === 'q' || key === '\u0003') stopNow();
      if (key === 'n') injectNext();
    });
  }

  const redraw = async () => {
    try {
      const r = await adminRequest(ipmpd.adminSocket, { op: 'status' });
      if (!r.ok) return;
      const screen = render(r.result as EngineSnapshot, [
        `ipmpd demo: metrics at http://127.0.0.1:${PORT}/metrics   status at http://127.0.0.1:${PORT}/api/v1/status`,
        `the client 198.18.11.50 talks to the floating address 198.18.11.5; a fault every ${STEP_MS / 1000} s   keys: n = next fault now, q = quit`,
        `last injected: ${last}`,
      ]);
      process.stdout.write(process.stdout.isTTY ? `\x1b[2J\x1b[H${screen}` : `${screen}\n`);
    } catch {
      // the daemon is restarting or stopping; try again next second
    }
  };
  const draw = setInterval(() => {
    redraw().catch(() => undefined); // redraw() catches its own errors
  }, 1000);
}

main().catch((err: Error) => {
  process.stderr.write(`ipmpd demo: ${err.message}\n`);
  process.exit(1);
});
