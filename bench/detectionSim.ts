// Detection and repair times of the engine in simulated time (no network):
// FDT 10 s, every target of one NIC silent from an arbitrary phase.
//
//   npm run bench -- detection-sim [--seeds N]

import { Sim, twoNicConfig } from '../test/unit/core/sim.js';
import { summary, table } from './stats.js';

export async function detectionSimBench(args: string[]): Promise<string> {
  const seeds = Number(args[args.indexOf('--seeds') + 1] ?? 1000) || 1000;
  const detection: number[] = [];
  const repair: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const sim = new Sim(twoNicConfig(), { seed });
    sim.runFor(60_000);
    const t0 = sim.now + (seed % 997);
    sim.runUntil(t0);
    sim.rtt = (ifname) => (ifname === 'eth0' ? undefined : 0.2);
    sim.runFor(20_000);
    const failed = sim.events('interface_failed', t0).find((e) => e.output.ifname === 'eth0');
    if (!failed) throw new Error(`seed ${seed}: never failed`);
    detection.push(failed.at - t0);
    const t1 = sim.now;
    sim.rtt = () => 0.2;
    sim.runFor(40_000);
    const repaired = sim.events('interface_repaired', t1).find((e) => e.output.ifname === 'eth0');
    if (!repaired) throw new Error(`seed ${seed}: never repaired`);
    repair.push(repaired.at - t1);
  }
  const row = (what: string, v: number[]) => ({
    what,
    seeds: v.length,
    ...Object.fromEntries(Object.entries(summary(v)).filter(([k]) => k !== 'n')),
  });
  return `${table([row('detection (ms)', detection), row('repair (ms)', repair)])}\n`;
}
