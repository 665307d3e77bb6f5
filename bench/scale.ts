// Many interfaces: 64 NICs in 32 two-NIC groups, 5 shared targets, FDT 1 s.
// What it costs (CPU share, memory), how fast /metrics answers with ~5000
// series, and how late the probe scheduler wakes.
//
//   npm run bench -- scale [--nics 64] [--window 60] [--scrapes 200]

import type { LabSpec } from '../test/lab/lab.js';
import { Lab } from '../test/lab/lab.js';
import { IpmpdProcess } from '../test/scenarios/ipmpd.js';
import { cpuNs, rssBytes, sleep } from './proc.js';
import { summary, table } from './stats.js';

const TARGETS = [1, 2, 3, 4, 5].map((i) => `198.18.16.${i}`);
const testAddress = (nic: number) => `198.18.17.${nic + 1}/22`;
const dataAddress = (group: number) => `198.18.18.${group + 1}/22`;

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

function scaleLab(nics: number): LabSpec {
  return {
    switches: [{ name: 'lan' }],
    hosts: [
      { name: 'ipmp', nics: Array.from({ length: nics }, (_, i) => ({ name: `eth${i}`, switch: 'lan' })) },
      ...TARGETS.map((t, i) => ({
        name: `t${i + 1}`,
        nics: [{ name: 'eth0', switch: 'lan', addresses: [`${t}/22`] }],
      })),
    ],
  };
}

function scaleYaml(nics: number, fdt: string): string {
  const groups = Array.from(
    { length: nics / 2 },
    (_, g) => `  - name: g${g}
    interfaces:
      - name: eth${2 * g}
        test_address: ${testAddress(2 * g)}
      - name: eth${2 * g + 1}
        test_address: ${testAddress(2 * g + 1)}
    data_addresses:
      - address: ${dataAddress(g)}
        preferred_interface: eth${2 * g}
    probe_targets: [${TARGETS.join(', ')}]`,
  );
  return `failure_detection_time: ${fdt}\nfix_sysctls: true\ngroups:\n${groups.join('\n')}\n`;
}

/** Quantile upper bound from a Prometheus histogram's cumulative buckets. */
function histogramQuantile(body: string, name: string, q: number): { count: number; upperBound: number } {
  const buckets = [...body.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))].map((m) => ({
    le: Number(m[1]),
    n: Number(m[2]),
  }));
  const count = buckets.at(-1)?.n ?? 0;
  return { count, upperBound: buckets.find((b) => b.n >= q * count)?.le ?? NaN };
}

export async function scaleBench(args: string[]): Promise<string> {
  const nics = Number(option(args, '--nics', '64'));
  const windowS = Number(option(args, '--window', '60'));
  const scrapes = Number(option(args, '--scrapes', '200'));
  const fdt = option(args, '--fdt', '1s');
  if (!(nics >= 2 && nics % 2 === 0 && nics <= 200))
    throw new Error(`--nics must be an even number 2..200, got ${nics}`);
  const lab = await Lab.create(scaleLab(nics));
  process.stderr.write(`lab of ${nics} NICs built in ${Math.round(lab.createdInMs)} ms\n`);
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', scaleYaml(nics, fdt), { logLevel: 'info' });
  try {
    const started = Date.now();
    await ipmpd.waitFor('every group placed', () => ipmpd.events('address_moved').length >= nics / 2, 60_000);
    const placedMs = Date.now() - started;
    await sleep(10_000); // targets found, RTTs settled, JIT warm
    const pid = ipmpd.child.pid!;
    const before = await ipmpd.http('/metrics');
    const c0 = cpuNs(pid);
    const t0 = process.hrtime.bigint();
    await sleep(windowS * 1000);
    const cpuShare = (cpuNs(pid) - c0) / Number(process.hrtime.bigint() - t0);
    const rss = rssBytes(pid);
    // scrapes, one after another on one keep-alive connection, timed by curl
    const url = `http://127.0.0.1:${ipmpd.port}/metrics`;
    const beforeScrapes = await ipmpd.http('/metrics');
    const cpuBeforeScrapes = cpuNs(pid);
    // (-o applies to one URL only: each needs its own)
    const curl = await lab.exec(
      'ipmp',
      [
        'curl',
        '-s',
        '-w',
        '%{time_total}\\n',
        ...Array.from({ length: scrapes }, () => ['-o', '/dev/null', url]).flat(),
      ],
      { timeoutMs: 120_000 },
    );
    const scrapeMs = curl.stdout
      .trim()
      .split('\n')
      .map((s) => Number(s) * 1000);
    const scrapeCpuMs = (cpuNs(pid) - cpuBeforeScrapes) / 1e6 / scrapes;
    const rssAfter = rssBytes(pid);
    const after = await ipmpd.http('/metrics');
    const series = after.body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const sent = (body: string) =>
      [...body.matchAll(/^ipmp_probe_requests_total\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const timeoutsIn = (body: string) =>
      [...body.matchAll(/^ipmp_probe_timeouts_total\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const timeouts = timeoutsIn(after.body);
    const timeoutsDuringScrapes = timeouts - timeoutsIn(beforeScrapes.body);
    const windowTimeouts = timeoutsIn(beforeScrapes.body) - timeoutsIn(before.body);
    const failures = ipmpd.events('interface_failed').length;
    const late50 = histogramQuantile(after.body, 'ipmp_scheduler_lateness_seconds', 0.5);
    const late99 = histogramQuantile(after.body, 'ipmp_scheduler_lateness_seconds', 0.99);
    const s = summary(scrapeMs);
    // where the memory is, by ipmpd's own process metrics (V8 heap spaces, off-heap buffers)
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)}`;
    const sample = (re: RegExp) => Number(re.exec(after.body)?.[1] ?? NaN);
    const space = (name: string) =>
      mib(sample(new RegExp(`^nodejs_heap_space_size_total_bytes\\{space="${name}"\\} (\\S+)$`, 'm')));
    // garbage collection during the scrapes, by ipmpd's own nodejs_gc_duration_seconds
    const gc = (kind: string) => {
      const read = (body: string, what: string) =>
        Number(new RegExp(`^nodejs_gc_duration_seconds_${what}\\{kind="${kind}"\\} (\\S+)$`, 'm').exec(body)?.[1] ?? 0);
      const n = read(after.body, 'count') - read(beforeScrapes.body, 'count');
      const ms = (read(after.body, 'sum') - read(beforeScrapes.body, 'sum')) * 1000;
      return `${n} ${kind} (${ms.toFixed(1)} ms)`;
    };
    const heap = `heap total ${mib(sample(/^nodejs_heap_size_total_bytes (\S+)$/m))} (new ${space('new')}, old ${space('old')}, code ${space('code')}), external ${mib(sample(/^nodejs_external_memory_bytes (\S+)$/m))}`;
    const rows = [
      { what: 'NICs / groups / targets per NIC', value: `${nics} / ${nics / 2} / ${TARGETS.length}`, target: '' },
      { what: 'all groups placed after start', value: `${placedMs} ms`, target: '' },
      { what: `probes sent in ${windowS} s window`, value: `${sent(after.body) - sent(before.body)}`, target: '' },
      { what: 'CPU (share of one core)', value: `${(cpuShare * 100).toFixed(2)} %`, target: '≤ 4 %' },
      {
        what: 'RSS after the window / after the scrapes',
        value: `${mib(rss)} / ${mib(rssAfter)} MiB`,
        target: '< 100 MiB',
      },
      { what: 'of which (MiB, after the scrapes)', value: heap, target: '' },
      {
        what: `/metrics scrape (${after.body.length} bytes, ${series} series) p50 / p99 / max`,
        value: `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} / ${s.max.toFixed(2)} ms`,
        target: 'p99 < 20 ms',
      },
      {
        what: 'garbage collections during the scrapes (total pause)',
        value: `${gc('minor')}, ${gc('major')}`,
        target: '',
      },
      {
        what: 'ipmpd CPU per scrape (all threads, probing included, during the scrapes)',
        value: `${scrapeCpuMs.toFixed(2)} ms`,
        target: '',
      },
      {
        what: 'scheduler lateness p50 / p99 (histogram bucket bound)',
        value: `≤ ${late50.upperBound * 1000} ms / ≤ ${late99.upperBound * 1000} ms (${late50.count} wake-ups)`,
        target: '',
      },
      {
        what: 'probe timeouts / interface failures (no fault injected)',
        value: `${timeouts} (${windowTimeouts} in the CPU window, ${timeoutsDuringScrapes} during the scrapes) / ${failures}`,
        target: '0 / 0',
      },
    ];
    return `${table(rows)}\n`;
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
}
