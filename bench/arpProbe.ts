// Detection with ARP probing (probe_method: arp, no test addresses) on the real
// kernel: repeated silent cuts (switch port detached from the bridge, carrier
// stays up) of the NIC holding the data address and of the other NIC.
// Detection runs from the cut command's return to ipmpd's interface_failed log
// line, and for the holder to its address_moved line, by ipmpd's own
// timestamps. `--methods arp,icmp` runs the same trials with ICMP probing from
// test addresses, for comparison; the RTT column is the probes' median.
//
//   npm run bench -- arp-probe [--trials 20] [--fdt 1s] [--cuts holder,other] [--methods arp,icmp]

import { Lab } from '../test/lab/lab.js';
import { twoNicGroup } from '../test/lab/topologies.js';
import { arpYaml, IpmpdProcess, twoNicYaml, type LogLine } from '../test/scenarios/ipmpd.js';
import { summary, table } from './stats.js';

const DATA = '198.18.11.5';
type Cut = 'holder' | 'other';
type Method = 'arp' | 'icmp';

function parseFdtMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  if (!m) throw new Error(`--fdt: "${text}" is not a duration like 10s or 100ms`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** ipmpd's own timestamp of a log line (pino's `time`), not when we read the pipe. */
const loggedAt = (l: LogLine) => (typeof l.time === 'string' ? Date.parse(l.time) : l.at);

async function holder(lab: Lab): Promise<string> {
  return (await lab.addresses('ipmp')).find((a) => a.cidr.startsWith(`${DATA}/`))?.dev ?? 'eth0';
}

interface Trial {
  failedMs: number;
  movedMs: number | undefined;
}

async function trial(lab: Lab, ipmpd: IpmpdProcess, cut: Cut): Promise<Trial> {
  const home = await holder(lab);
  const nic = cut === 'holder' ? home : home === 'eth0' ? 'eth1' : 'eth0';
  const t0 = Date.now();
  await lab.silentCut('ipmp', nic);
  // the cut took effect between t0 and now: detection counts from the command's return,
  // so it reads short by the few ms `ip` takes, never long
  const cutDone = Date.now();
  const failure = await ipmpd.waitFor(
    `${nic} failure`,
    (l) => l.event === 'interface_failed' && l.interface === nic && l.at >= t0,
    30_000,
  );
  const moved =
    cut === 'holder'
      ? await ipmpd.waitFor('the move', (l) => l.event === 'address_moved' && l.from === nic && l.at >= t0, 10_000)
      : undefined;
  await lab.reattach('ipmp', nic);
  await ipmpd.waitFor(
    `${nic} repair`,
    (l) => l.event === 'interface_repaired' && l.interface === nic && l.at >= failure.at,
    60_000,
  );
  if (cut === 'holder')
    await ipmpd.waitFor(
      'the failback',
      (l) => l.event === 'address_moved' && l.to === nic && l.at >= failure.at,
      10_000,
    );
  await new Promise((r) => setTimeout(r, 300));
  return {
    failedMs: Math.max(0, loggedAt(failure) - cutDone),
    movedMs: moved ? Math.max(0, loggedAt(moved) - cutDone) : undefined,
  };
}

export async function arpProbeBench(args: string[]): Promise<string> {
  const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
  const trials = Number(option('--trials', '20')) || 20;
  const fdts = option('--fdt', '1s').split(',');
  const cuts = option('--cuts', 'holder,other').split(',') as Cut[];
  const methods = option('--methods', 'arp').split(',') as Method[];
  for (const c of cuts)
    if (c !== 'holder' && c !== 'other') throw new Error(`--cuts: "${c}" is neither holder nor other`);
  for (const m of methods)
    if (m !== 'arp' && m !== 'icmp') throw new Error(`--methods: "${m}" is neither arp nor icmp`);
  const rows: Array<Record<string, string | number>> = [];
  for (const method of methods) {
    for (const fdt of fdts) {
      const fdtMs = parseFdtMs(fdt);
      const lab = await Lab.create(twoNicGroup());
      const ipmpd = IpmpdProcess.start(lab, 'ipmp', method === 'arp' ? arpYaml(fdt) : twoNicYaml({ fdt }));
      try {
        await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
        await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
        await new Promise((r) => setTimeout(r, 2000));
        for (const cut of cuts) {
          const since = Date.now();
          const results: Trial[] = [];
          for (let i = 0; i < trials; i++) {
            results.push(await trial(lab, ipmpd, cut));
            if ((i + 1) % 10 === 0) process.stderr.write(`${method} ${cut} FDT ${fdt}: ${i + 1}/${trials}\n`);
          }
          const f = summary(results.map((r) => r.failedMs));
          const moves = results.flatMap((r) => (r.movedMs === undefined ? [] : [r.movedMs]));
          const m = summary(moves);
          const rtt = summary(
            ipmpd.lines
              .filter((l) => l.event === 'probe_acked' && l.at >= since && l.family === 4)
              .map((l) => Number(l.rttMs)),
          );
          rows.push({
            method,
            cut,
            FDT: fdt,
            trials: results.length,
            'failed within FDT': `${results.filter((r) => r.failedMs <= fdtMs).length}/${results.length}`,
            'failed p50': f.p50,
            'failed p90': f.p90,
            'failed max': f.max,
            'moved p50': moves.length ? m.p50 : '--',
            'moved p90': moves.length ? m.p90 : '--',
            'moved max': moves.length ? m.max : '--',
            'RTT p50 (µs)': Math.round(rtt.p50 * 1000),
          });
          process.stderr.write(`${method} ${cut} FDT ${fdt}: done\n`);
        }
      } finally {
        await ipmpd.stop();
        await lab.destroy();
      }
    }
  }
  return `${table(rows)}\n\n(ms; cut = silent cut of the NIC holding the data address, or of the other NIC; failed/moved = cut command's return to ipmpd's interface_failed / address_moved log line, its own timestamps; RTT = median of the IPv4 probes' RTT over the trials)\n`;
}
