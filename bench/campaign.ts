// The long fault campaign: the same seeded steps as test/scenarios/campaign.test.ts, many more.
//
//   npm run bench -- campaign [--seed N] [--steps 1000] [--fdt-ms 1000]

import { runCampaign } from '../test/scenarios/campaign.js';
import { summary, table } from './stats.js';

export async function campaignBench(args: string[]): Promise<string> {
  const option = (name: string, fallback: number) =>
    args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
  const seed = option('--seed', Date.now() % 1_000_000);
  const steps = option('--steps', 1000);
  const fdtMs = option('--fdt-ms', 1000);
  process.stderr.write(`campaign seed ${seed}, ${steps} steps, FDT ${fdtMs} ms (replay with --seed ${seed})\n`);
  const started = Date.now();
  const report = await runCampaign({ seed, steps, fdtMs, log: (l) => process.stderr.write(`${l}\n`) });
  const settle = summary(report.settleMs);
  const restart = summary(report.restartConvergeMs);
  const rows = [
    { what: 'steps', value: String(report.steps) },
    {
      what: 'faults',
      value: Object.entries(report.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    },
    { what: 'violations', value: String(report.violations.length) },
    { what: 'settle after a step, ms (p50 / p99 / max)', value: `${settle.p50} / ${settle.p99} / ${settle.max}` },
    {
      what: 'converged after a kill -9 restart, ms from `started` (n / p50 / max)',
      value: `${restart.n} / ${restart.p50} / ${restart.max}`,
    },
    { what: 'longest time on two NICs, ms', value: String(report.longestDoubleMs) },
    { what: 'duration, min', value: ((Date.now() - started) / 60_000).toFixed(1) },
  ];
  return `seed ${seed}, FDT ${fdtMs} ms\n\n${table(rows)}\n${report.violations.length ? `\nviolations:\n${report.violations.join('\n')}\n` : ''}`;
}
