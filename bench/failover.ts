// Failover timing on the real kernel: carrier loss and silent cuts of the NIC
// holding the floating address, repeated; detection latency (cut -> ipmpd's
// failure log line) and client outage (a client pinging the address every
// 1 ms; the longest gap between replies around the cut).
//
//   npm run bench -- failover [--trials N] [--fdt 10s,1s,100ms] [--cuts link,silent]

import { Lab } from '../test/lab/lab.js';
import { startPinger } from '../test/lab/pinger.js';
import { twoNicGroup } from '../test/lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from '../test/scenarios/ipmpd.js';
import { summary, table } from './stats.js';

const DATA = '198.18.11.5';

interface Trial {
  detectionMs: number;
  outageMs: number;
  /** the group's FDT when the failure was declared (in.mpathd raises it when RTTs need more) */
  effectiveFdtMs: number;
}

function parseFdtMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  if (!m) throw new Error(`--fdt: "${text}" is not a duration like 10s or 100ms`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** The group's FDT at `at`: the configured one, or the last raise/lower logged before. */
function effectiveFdtAt(ipmpd: IpmpdProcess, configuredMs: number, at: number): number {
  const changes = ipmpd.lines.filter((l) => (l.event === 'fdt_raised' || l.event === 'fdt_lowered') && l.at <= at);
  const last = changes[changes.length - 1];
  return last ? Number(last.fdt_ms) : configuredMs;
}

async function holder(lab: Lab): Promise<string | undefined> {
  return (await lab.holders('ipmp', DATA))[0];
}

async function trial(lab: Lab, ipmpd: IpmpdProcess, kind: 'link' | 'silent', configuredFdtMs: number): Promise<Trial> {
  const nic = (await holder(lab)) ?? 'eth0';
  const pinger = startPinger(lab, 'client', DATA, 1);
  await pinger.waitForReply(Date.now(), 5000);
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  if (kind === 'link') await lab.cutCarrier('ipmp', nic);
  else await lab.silentCut('ipmp', nic);
  // the cut took effect between t0 and now (spawning `ip` takes a few ms); detection
  // counts from the command's return, so it reads short by under that, never long
  const cutDone = Date.now();
  const failure = await ipmpd.waitFor(
    `${nic} failure`,
    (l) => l.event === 'interface_failed' && l.interface === nic && l.at >= t0,
    30_000,
  );
  await pinger.waitForReply(failure.at, 10_000);
  await new Promise((r) => setTimeout(r, 100));
  const result = await pinger.stop();
  // repair, and wait until the address is home again before the next trial
  if (kind === 'link') await lab.restoreCarrier('ipmp', nic);
  else await lab.reattach('ipmp', nic);
  await ipmpd.waitFor(
    `${nic} repair`,
    (l) => l.event === 'interface_repaired' && l.interface === nic && l.at >= failure.at,
    60_000,
  );
  await new Promise((r) => setTimeout(r, 300));
  // ipmpd's own timestamp of the log line (pino's `time`), not when we read the pipe
  const declaredAt = typeof failure.time === 'string' ? Date.parse(failure.time) : failure.at;
  return {
    detectionMs: Math.max(0, declaredAt - cutDone),
    outageMs: result.longestGapMs,
    effectiveFdtMs: effectiveFdtAt(ipmpd, configuredFdtMs, failure.at),
  };
}

export async function failoverBench(args: string[]): Promise<string> {
  const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
  const trials = Number(option('--trials', '20')) || 20;
  const fdts = option('--fdt', '1s').split(',');
  const cuts = option('--cuts', 'link,silent').split(',') as Array<'link' | 'silent'>;
  for (const c of cuts)
    if (c !== 'link' && c !== 'silent') throw new Error(`--cuts: "${c}" is neither link nor silent`);
  const rows: Array<Record<string, string | number>> = [];
  for (const fdt of fdts) {
    const lab = await Lab.create(twoNicGroup());
    const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt }));
    try {
      await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
      await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
      await new Promise((r) => setTimeout(r, 2000));
      for (const kind of cuts) {
        const results: Trial[] = [];
        for (let i = 0; i < trials; i++) {
          results.push(await trial(lab, ipmpd, kind, parseFdtMs(fdt)));
          if ((i + 1) % 10 === 0) process.stderr.write(`${kind} FDT ${fdt}: ${i + 1}/${trials}\n`);
        }
        const d = summary(results.map((r) => r.detectionMs));
        const o = summary(results.map((r) => r.outageMs));
        const e = summary(results.map((r) => r.effectiveFdtMs));
        const within = results.filter((r) => r.detectionMs <= r.effectiveFdtMs).length;
        rows.push({
          cut: kind,
          FDT: fdt,
          'effective FDT max': e.max,
          trials: results.length,
          'within eff. FDT': `${within}/${results.length}`,
          'detect min': d.min,
          'detect p50': d.p50,
          'detect p99': d.p99,
          'detect max': d.max,
          'outage min': o.min,
          'outage p50': o.p50,
          'outage p99': o.p99,
          'outage max': o.max,
        });
        process.stderr.write(`${kind} FDT ${fdt}: done\n`);
      }
    } finally {
      await ipmpd.stop();
      await lab.destroy();
    }
  }
  return `${table(rows)}\n\n(ms; detection = cut command's return to ipmpd's failure log line (its own timestamp); outage = longest gap between a 1 ms client's ping replies)\n`;
}
