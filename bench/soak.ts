// Loss soak: random loss on the IPMP host's switch ports for a long time at
// the default FDT (10 s); a NIC may only fail on five consecutive lost probes,
// so the expected number of failovers is close to zero, and so must the count be.
//
//   npm run bench -- soak [--minutes 10] [--percent 10] [--fdt 10s] [--ports ipmp|all]
//
// --percent applies to each direction of each port (the lab's setLoss 'both'): a
// probe crosses the IPMP port twice, so with --ports ipmp it is lost with
// 1 - (1 - p)^2 (19 % at 10 %); with --ports all it crosses the target's port too.

import { Lab } from '../test/lab/lab.js';
import { twoNicGroup } from '../test/lab/topologies.js';
import { parseSamples, total } from '../test/scenarios/metricsText.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from '../test/scenarios/ipmpd.js';
import { sleep } from './proc.js';
import { table } from './stats.js';

/** The longest run of consecutive lost probes per NIC, in sequence order. */
function longestLossRun(lines: readonly LogLine[], nic: string): number {
  const outcomes = lines
    .filter((l) => l.ifname === nic && (l.event === 'probe_acked' || l.event === 'probe_lost'))
    .map((l) => ({ seq: Number(l.seq), lost: l.event === 'probe_lost' }));
  // a late answer after a loss line: the probe counts as answered
  const bySeq = new Map<number, boolean>();
  for (const o of outcomes) bySeq.set(o.seq, (bySeq.get(o.seq) ?? true) && o.lost);
  let run = 0;
  let longest = 0;
  for (const lost of bySeq.values()) {
    run = lost ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

export async function soakBench(args: string[]): Promise<string> {
  const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
  const minutes = Number(option('--minutes', '10'));
  const percent = Number(option('--percent', '10'));
  const fdt = option('--fdt', '10s');
  const ports = option('--ports', 'ipmp');
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt }));
  try {
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    await ipmpd.waitFor(
      'answers on both NICs',
      () => new Set(ipmpd.events('probe_acked').map((l) => l.ifname)).size === 2,
      30_000,
    );
    const lossy = [
      ['ipmp', 'eth0'],
      ['ipmp', 'eth1'],
      ...(ports === 'all'
        ? [
            ['router', 'eth0'],
            ['t1', 'eth0'],
            ['t2', 'eth0'],
            ['client', 'eth0'],
          ]
        : []),
    ] as const;
    for (const [host, nic] of lossy) await lab.setLoss(host, nic, percent);
    const m0 = parseSamples((await ipmpd.http('/metrics')).body);
    const t0 = Date.now();
    const firstLine = ipmpd.lines.length;
    for (let left = minutes; left > 0; left--) {
      await sleep(60_000);
      process.stderr.write(
        `soak: ${minutes - left + 1}/${minutes} min, ${ipmpd.events('interface_failed').length} failures\n`,
      );
    }
    const m1 = parseSamples((await ipmpd.http('/metrics')).body);
    const during = ipmpd.lines.slice(firstLine);
    const rows = ['eth0', 'eth1'].map((nic) => {
      const sent =
        total(m1, 'ipmp_probe_requests_total', { device: nic }) -
        total(m0, 'ipmp_probe_requests_total', { device: nic });
      const lost =
        total(m1, 'ipmp_probe_timeouts_total', { device: nic }) -
        total(m0, 'ipmp_probe_timeouts_total', { device: nic });
      return {
        NIC: nic,
        'probes sent': String(sent),
        'probes lost': `${lost} (${((100 * lost) / sent).toFixed(1)} %)`,
        'longest loss run': String(longestLossRun(during, nic)),
        failures: String(during.filter((l) => l.event === 'interface_failed' && l.interface === nic).length),
      };
    });
    const moves = during.filter((l) => l.event === 'address_moved').length;
    return `${percent} % loss each way on ${ports === 'all' ? 'every switch port' : "the IPMP host's ports"}, FDT ${fdt}, ${((Date.now() - t0) / 60_000).toFixed(1)} min\n\n${table(rows)}\n\naddress moves: ${moves}\n`;
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
}
