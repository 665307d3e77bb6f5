// /metrics rendering alone, in-process: the engine in simulated time with N
// two-NIC groups and 5 targets per NIC (every probe answered, RTTs spread over
// the histogram), the exporter fed its events, then `scrapes` renderings timed.
// The 64-NIC `scale` bench measures the same over HTTP on the real kernel.
//
//   npm run bench -- scrape [--nics 64] [--scrapes 200]

import { DEFAULT_METRICS } from '../src/config/metrics.js';
import { PerformanceObserver } from 'node:perf_hooks';
import type { DaemonConfig, GroupConfig } from '../src/config/types.js';
import { DEFAULT_FOLLOW_PROTOCOLS } from '../src/config/routeProtocols.js';
import { Exporter } from '../src/metrics/exporter.js';
import { cidr, Sim } from '../test/unit/core/sim.js';
import { summary, table } from './stats.js';

function config(nics: number): DaemonConfig {
  const groups: GroupConfig[] = Array.from({ length: nics / 2 }, (_, g) => ({
    name: `g${g}`,
    interfaces: [0, 1].map((k) => ({
      name: `n${2 * g + k}`,
      testAddresses: [cidr(`198.18.${16 + ((2 * g + k) >> 8)}.${(2 * g + k) & 255}/16`)],
      standby: false,
    })),
    dataAddresses: [{ address: cidr(`198.19.0.${g + 1}/16`), preferredInterface: `n${2 * g}` }],
    probeTargets: [1, 2, 3, 4, 5].map((t) => `198.18.200.${t}`),
    probeMethod: 'icmp',
  }));
  return {
    failureDetectionTimeMs: 1000,
    failback: true,
    trackInterfacesOnlyWithGroups: true,
    onAllTargetsLost: 'rediscover',
    announce: { count: 1, intervalMs: 0, secondBurstAfterMs: 0, refreshIntervalMs: 0, untilTrafficMs: 0 },
    fixSysctls: false,
    followRouteProtocols: [...DEFAULT_FOLLOW_PROTOCOLS],
    adminSocket: '/nonexistent',
    hooks: [],
    webhooks: [],
    metrics: DEFAULT_METRICS,
    groups,
  };
}

export async function scrapeBench(args: string[]): Promise<string> {
  const option = (name: string, fallback: number) =>
    args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
  const nics = option('--nics', 64);
  const scrapes = option('--scrapes', 200);
  const sim = new Sim(config(nics), { seed: 1 });
  let spread = 0;
  sim.rtt = () => 0.1 + ((spread++ * 7) % 50); // 0.1 .. 50 ms: many buckets in use
  const exporter = new Exporter(
    () => sim.engine.snapshot(),
    (ms) => ms / 1000,
    { version: 'bench', revision: 'bench' },
  );
  sim.runFor(60_000);
  for (const { output } of sim.log) exporter.events.onEngineOutput(output);
  let body = '';
  const times: number[] = [];
  // heap allocated by a scrape: the growth of the used heap across scrapes no GC ran in
  let collections = 0;
  const gcs = new PerformanceObserver((list) => (collections += list.getEntries().length));
  gcs.observe({ entryTypes: ['gc'] });
  const allocated: number[] = [];
  for (let i = 0; i < scrapes; i++) {
    const gcBefore = collections;
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    const scrape = await exporter.scrape();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const heapAfter = process.memoryUsage().heapUsed;
    await new Promise((r) => setImmediate(r)); // a GC entry is delivered asynchronously
    if (collections === gcBefore) allocated.push(heapAfter - heapBefore);
    if (i === scrapes - 1) body = scrape.body.toString();
    scrape.release();
  }
  gcs.disconnect();
  const s = summary(times.slice(Math.min(20, scrapes / 2))); // after JIT warm-up
  const kib = summary(allocated.slice(Math.floor(allocated.length / 2))).p50 / 1024;
  const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
  return `${table([{ NICs: String(nics), series: String(series), bytes: String(body.length), 'p50 ms': s.p50, 'p99 ms': s.p99, 'max ms': s.max, 'heap allocated per scrape, KiB (p50)': kib }])}\n`;
}
