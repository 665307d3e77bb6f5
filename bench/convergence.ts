// Failover convergence on the real kernel (issue 19 part 2): a client pings the
// floating address; the NIC holding it loses carrier (the address moves, a
// link failover) and comes back (the address returns, a failback). Each move
// gives one convergence time (decision -> first packet for the address on its
// new NIC, as ipmpd records it) and how far ipmpd's record lies from the
// client's first reply after the move (how quickly the arrival is seen).
//
//   npm run bench -- convergence [--trials N] [--interval-ms 10]

import { Lab } from '../test/lab/lab.js';
import { startPinger } from '../test/lab/pinger.js';
import { twoNicGroup } from '../test/lab/topologies.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from '../test/scenarios/ipmpd.js';
import { summary, table } from './stats.js';

const DATA = '198.18.11.5';

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}: want a positive number, got ${args[i + 1]}`);
  return v;
}

export async function convergenceBench(args: string[]): Promise<string> {
  const trials = option(args, '--trials', 12);
  const intervalMs = option(args, '--interval-ms', 10);
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(
    lab,
    'ipmp',
    twoNicYaml({ fdt: '1s', extra: 'announce:\n  second_burst_after: 0s\n' }),
    { logLevel: 'info' },
  );
  const rows: Array<{ kind: string; convergenceMs: number; afterMoveMs: number; fromReplyMs: number }> = [];
  try {
    await ipmpd.waitFor('the first placement', (l) => l.event === 'address_moved' && l.to === 'eth0', 15_000);
    const pinger = startPinger(lab, 'client', DATA, intervalMs);
    try {
      await pinger.waitForReply(Date.now(), 5000);
      for (let i = 0; i < trials; i++) {
        for (const [kind, act, to] of [
          ['link', () => lab.cutCarrier('ipmp', 'eth0'), 'eth1'],
          ['failback', () => lab.restoreCarrier('ipmp', 'eth0'), 'eth0'],
        ] as const) {
          const since = Date.now();
          const seen = ipmpd.events('address_converged').length;
          await act();
          await ipmpd.waitFor(
            `the move to ${to}`,
            (l: LogLine) => l.event === 'address_moved' && l.to === to && l.at >= since,
            30_000,
          );
          const c = await ipmpd
            .waitFor('convergence', () => ipmpd.events('address_converged').length > seen, 10_000)
            .then(() => ipmpd.events('address_converged')[seen]!);
          const movedAt = Date.parse(ipmpd.events('address_moved').at(-1)!.time as string);
          const reply = await pinger.waitForReply(movedAt, 5000);
          rows.push({
            kind,
            convergenceMs: c.convergence_ms as number,
            afterMoveMs: c.after_move_ms as number,
            fromReplyMs: Date.parse(c.arrived_at as string) - reply,
          });
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    } finally {
      await pinger.stop();
    }
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
  const line = (label: string, values: number[]) => {
    const s = summary(values);
    return { measure: label, n: String(s.n), min: s.min, p50: s.p50, p99: s.p99, max: s.max };
  };
  const all = rows;
  return `${table([
    line(
      'link: decision -> first packet (ms)',
      all.filter((r) => r.kind === 'link').map((r) => r.convergenceMs),
    ),
    line(
      'failback: decision -> first packet (ms)',
      all.filter((r) => r.kind === 'failback').map((r) => r.convergenceMs),
    ),
    line(
      'all: move done -> first packet (ms)',
      all.map((r) => r.afterMoveMs),
    ),
    line(
      "all: ipmpd's record - client's reply (ms)",
      all.map((r) => r.fromReplyMs),
    ),
  ])}\n(client pings every ${intervalMs} ms; ${trials} link cuts and ${trials} failbacks)\n`;
}
