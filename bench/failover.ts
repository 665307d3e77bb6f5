// Failover timing on the real kernel: carrier loss and silent cuts of the NIC
// holding the floating address, repeated; detection latency (cut -> ipmpd's
// failure log line) and client outage (a client pinging the address every
// 1 ms; the longest gap between replies around the cut).
//
//   npm run bench -- failover [--trials N] [--fdt 1s,100ms]

import { Lab } from '../test/lab/lab.js';
import { startPinger } from '../test/lab/pinger.js';
import { twoNicGroup } from '../test/lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from '../test/scenarios/ipmpd.js';
import { summary, table } from './stats.js';

const DATA = '198.18.11.5';

interface Trial {
  detectionMs: number;
  outageMs: number;
}

async function holder(lab: Lab): Promise<string | undefined> {
  return (await lab.addresses('ipmp')).find((a) => a.cidr.startsWith(`${DATA}/`))?.dev;
}

async function trial(lab: Lab, ipmpd: IpmpdProcess, kind: 'link' | 'silent'): Promise<Trial> {
  const nic = (await holder(lab)) ?? 'eth0';
  const pinger = startPinger(lab, 'client', DATA, 1);
  await pinger.waitForReply(Date.now(), 5000);
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  if (kind === 'link') await lab.cutCarrier('ipmp', nic);
  else await lab.silentCut('ipmp', nic);
  const failure = await ipmpd.waitFor(`${nic} failure`, (l) => l.event === 'interface_failed' && l.interface === nic && l.at >= t0, 30_000);
  await pinger.waitForReply(failure.at, 10_000);
  await new Promise((r) => setTimeout(r, 100));
  const result = await pinger.stop();
  // repair, and wait until the address is home again before the next trial
  if (kind === 'link') await lab.restoreCarrier('ipmp', nic);
  else await lab.reattach('ipmp', nic);
  await ipmpd.waitFor(`${nic} repair`, (l) => l.event === 'interface_repaired' && l.interface === nic && l.at >= failure.at, 60_000);
  await new Promise((r) => setTimeout(r, 300));
  return { detectionMs: failure.at - t0, outageMs: result.longestGapMs };
}

export async function failoverBench(args: string[]): Promise<string> {
  const trials = Number(args[args.indexOf('--trials') + 1] ?? 20) || 20;
  const fdts = (args.includes('--fdt') ? args[args.indexOf('--fdt') + 1]! : '1s').split(',');
  const rows: Array<Record<string, string | number>> = [];
  for (const fdt of fdts) {
    const lab = await Lab.create(twoNicGroup());
    const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt }));
    try {
      await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
      await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
      await new Promise((r) => setTimeout(r, 2000));
      for (const kind of ['link', 'silent'] as const) {
        const results: Trial[] = [];
        for (let i = 0; i < trials; i++) results.push(await trial(lab, ipmpd, kind));
        const d = summary(results.map((r) => r.detectionMs));
        const o = summary(results.map((r) => r.outageMs));
        rows.push({ cut: kind, FDT: fdt, trials: results.length, 'detect min': d.min, 'detect p50': d.p50, 'detect max': d.max, 'outage min': o.min, 'outage p50': o.p50, 'outage p99': o.p99, 'outage max': o.max });
        process.stderr.write(`${kind} FDT ${fdt}: done\n`);
      }
    } finally {
      await ipmpd.stop();
      await lab.destroy();
    }
  }
  return `${table(rows)}\n\n(ms; detection = cut to ipmpd's failure log line; outage = longest gap between a 1 ms client's ping replies)\n`;
}
