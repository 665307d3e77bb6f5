// npm run bench -- routes [--bgp4 N] [--bgp6 N] [--static N] [--rate N] [--churn-seconds S] [--cuts N] [--silent N] [--trials N] [--table-only | --addresses-only]
// A busy host: ipmpd on a host holding a BGP-sized table (bgp routes via
// the lab router, IPv6 blackholes, static routes that must follow the data
// address) under route churn, then groups of 128 and 1,024 data addresses.

import { setTimeout as sleep } from 'node:timers/promises';
import { Lab } from '../test/lab/lab.js';
import { loadTable, startChurn, type TableSpec } from '../test/lab/routeLoad.js';
import { twoNicGroup } from '../test/lab/topologies.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from '../test/scenarios/ipmpd.js';
import { cpuNs, rssBytes } from './proc.js';
import { summary, table } from './stats.js';

const option = (args: string[], name: string, fallback: number) =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
const MiB = 1024 * 1024;

function logTime(l: LogLine): number {
  return typeof l.time === 'string' ? Date.parse(l.time) : l.at;
}

async function metricSum(ipmpd: IpmpdProcess, name: string, match = ''): Promise<number> {
  const body = (await ipmpd.http('/metrics')).body;
  let sum = 0;
  for (const line of body.split('\n'))
    if (line.startsWith(`${name}{`) && line.includes(match)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function metricValue(ipmpd: IpmpdProcess, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec((await ipmpd.http('/metrics')).body);
  return m ? Number(m[1]) : NaN;
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`routes bench: no ${what} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function tableBench(args: string[]): Promise<string> {
  const t: TableSpec = {
    bgp4: option(args, '--bgp4', 200_000),
    bgp6: option(args, '--bgp6', 1_000_000),
    static4: option(args, '--static', 1000),
    gateway: '198.18.11.1',
  };
  const rate = option(args, '--rate', 2000);
  const churnSeconds = option(args, '--churn-seconds', 60);
  const cuts = option(args, '--cuts', 20);
  const silent = option(args, '--silent', 10);
  const lab = await Lab.create(twoNicGroup());
  const rows: Array<Record<string, string | number>> = [];
  let ipmpd: IpmpdProcess | undefined;
  try {
    // a first run places the address (the data subnet route the table's gateway needs), then the table goes in
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }), { logLevel: 'info' });
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', t.gateway]);
    const dir = ipmpd.dir;
    await ipmpd.stop();
    const loadStart = Date.now();
    await loadTable(lab, 'ipmp', t);
    process.stderr.write(`routes bench: table loaded in ${Date.now() - loadStart} ms\n`);

    // start with the table: ready when every group has a verdict
    const t0 = Date.now();
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }), { logLevel: 'info', dir });
    const proc = ipmpd;
    await waitFor('readiness', async () => (await proc.http('/-/ready')).status === 200, 120_000);
    rows.push({ measure: 'ready after start with the table', value: `${Date.now() - t0} ms`, target: '≤ 5 s' });
    await sleep(5000);
    const pid = proc.child.pid!;
    rows.push({
      measure: 'RSS with the table',
      value: `${(rssBytes(pid) / MiB).toFixed(1)} MiB (V8 heap used ${((await metricValue(proc, 'nodejs_heap_size_used_bytes')) / MiB).toFixed(1)} MiB, external ${((await metricValue(proc, 'nodejs_external_memory_bytes')) / MiB).toFixed(1)} MiB)`,
      target: '≤ 150 MiB',
    });

    // churn: CPU and probe timeouts, no faults
    const churn = startChurn(lab, 'ipmp', t, rate);
    await sleep(2000);
    const timeouts0 = await metricSum(proc, 'ipmp_probe_timeouts_total');
    const cpu0 = cpuNs(pid);
    const wall0 = process.hrtime.bigint();
    const written0 = churn.written;
    await sleep(churnSeconds * 1000);
    const cpu = (cpuNs(pid) - cpu0) / Number(process.hrtime.bigint() - wall0);
    const changes = (churn.written - written0) / churnSeconds;
    rows.push({
      measure: `CPU during ${changes.toFixed(0)} route changes/s for ${churnSeconds} s`,
      value: `${(cpu * 100).toFixed(1)} % of a core`,
      target: '≤ 15 %',
    });
    rows.push({
      measure: 'probe timeouts during that churn',
      value: String((await metricSum(proc, 'ipmp_probe_timeouts_total')) - timeouts0),
      target: '0',
    });
    rows.push({
      measure: 'RSS after the churn',
      value: `${(rssBytes(pid) / MiB).toFixed(1)} MiB`,
      target: '≤ 150 MiB',
    });

    // link cuts during churn: the address, then the static routes (ipmpd's own log times)
    const moveMs: number[] = [];
    const moveWithRoutesMs: number[] = [];
    const staticBefore = await metricSum(proc, 'ipmp_routes_moved_total', 'protocol="static"');
    for (let i = 0; i < cuts; i++) {
      const n = proc.lines.length;
      await lab.cutCarrier('ipmp', 'eth0');
      await waitFor(
        'move to eth1',
        () => proc.lines.slice(n).some((l) => l.event === 'address_moved' && l.to === 'eth1'),
        10_000,
      );
      const down = proc.lines.slice(n).find((l) => l.event === 'link_down' && l.interface === 'eth0');
      const moved = proc.lines.slice(n).find((l) => l.event === 'address_moved' && l.to === 'eth1')!;
      // decided at the link-down notification; moved = added, subnet and default routes, deleted from eth0, announced
      moveMs.push(down ? logTime(moved) - logTime(down) : Number(moved.duration_ms));
      // then the other routes follow: decision to the last of them acknowledged
      await waitFor(
        'the routes that follow',
        () => proc.lines.slice(n).some((l) => l.event === 'routes_followed'),
        30_000,
      );
      moveWithRoutesMs.push(Number(proc.lines.slice(n).find((l) => l.event === 'routes_followed')!.duration_ms));
      const m = proc.lines.length;
      await lab.restoreCarrier('ipmp', 'eth0');
      await waitFor(
        'failback',
        () => proc.lines.slice(m).some((l) => l.event === 'address_moved' && l.to === 'eth0'),
        15_000,
      );
    }
    const staticMoved = (await metricSum(proc, 'ipmp_routes_moved_total', 'protocol="static"')) - staticBefore;
    const s = summary(moveMs);
    rows.push({
      measure: `link cut during churn → address moved (link-down to moved, ipmpd's log), ${s.n} cuts`,
      value: `p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms`,
      target: 'p99 ≤ 50 ms',
    });
    const r = summary(moveWithRoutesMs);
    rows.push({
      measure: `same cuts → the ${t.static4} static routes replaced (decision to done)`,
      value: `p50 ${r.p50} ms, p99 ${r.p99} ms; ${staticMoved} static routes moved in ${2 * cuts} moves`,
      target: 'p99 ≤ 500 ms',
    });
    rows.push({
      measure: '`bgp` routes touched by a failover',
      value: String(await metricSum(proc, 'ipmp_routes_moved_total', 'protocol="bgp"')),
      target: '0',
    });

    // silent cuts during churn at FDT 1 s
    const detect: number[] = [];
    for (let i = 0; i < silent; i++) {
      const n = proc.lines.length;
      const cutAt = Date.now();
      await lab.silentCut('ipmp', 'eth0');
      await waitFor(
        'probe failure',
        () => proc.lines.slice(n).some((l) => l.event === 'interface_failed' && l.interface === 'eth0'),
        10_000,
      );
      detect.push(logTime(proc.lines.slice(n).find((l) => l.event === 'interface_failed')!) - cutAt);
      const m = proc.lines.length;
      await lab.reattach('ipmp', 'eth0');
      await waitFor(
        'repair and failback',
        () => proc.lines.slice(m).some((l) => l.event === 'address_moved' && l.to === 'eth0'),
        30_000,
      );
    }
    const d = summary(detect);
    rows.push({
      measure: `silent cut during churn at FDT 1 s, ${d.n} cuts`,
      value: `max ${d.max} ms (${detect.filter((x) => x <= 1000).length}/${d.n} within FDT)`,
      target: 'always within FDT',
    });
    await churn.stop();
    rows.push({
      measure: 'rtnetlink re-reads (lost notifications) over the run',
      value: String(proc.lines.filter((l) => l.event === 'rtnetlink_resync').length),
      target: '',
    });
  } finally {
    await ipmpd?.stop();
    await lab.destroy();
  }
  return `### routes: ${t.bgp4} bgp IPv4 + ${t.bgp6} bgp IPv6 blackhole + ${t.static4} static routes, ${rate} changes/s\n\n${table(rows)}\n`;
}

async function addressesBench(count: number, trials: number): Promise<Record<string, string | number>> {
  const addresses = Array.from({ length: count }, (_, i) => `198.18.${100 + (i >> 8)}.${i & 255}`);
  // a /16 holds them all; no preferred interface: they spread over both NICs
  const yaml = twoNicYaml({ fdt: '1s' }).replace(
    '        preferred_interface: eth0\n',
    `        preferred_interface: eth0\n${addresses.map((a) => `      - ${a}/16\n`).join('')}`,
  );
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', yaml, { logLevel: 'info' });
  const all: number[] = [];
  try {
    await waitFor(
      'placement',
      () => ipmpd.lines.filter((l) => l.event === 'address_moved').length >= count + 1,
      60_000,
    );
    await sleep(3000);
    for (let i = 0; i < trials; i++) {
      const n = ipmpd.lines.length;
      const onEth0 = ipmpd.lines
        .filter((l) => l.event === 'address_moved')
        .reduce(
          (set, l) => (l.to === 'eth0' ? set.add(String(l.ip_address)) : (set.delete(String(l.ip_address)), set)),
          new Set<string>(),
        ).size;
      await lab.cutCarrier('ipmp', 'eth0');
      await waitFor(
        'all moved',
        () => ipmpd.lines.slice(n).filter((l) => l.event === 'address_moved' && l.to === 'eth1').length >= onEth0,
        30_000,
      );
      const down = ipmpd.lines.slice(n).find((l) => l.event === 'link_down')!;
      const last = ipmpd.lines
        .slice(n)
        .filter((l) => l.event === 'address_moved')
        .at(-1)!;
      all.push(logTime(last) - logTime(down));
      const m = ipmpd.lines.length;
      await lab.restoreCarrier('ipmp', 'eth0');
      await waitFor(
        'failback',
        () => ipmpd.lines.slice(m).filter((l) => l.event === 'address_moved' && l.to === 'eth0').length >= onEth0,
        60_000,
      );
      await sleep(500);
    }
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
  const s = summary(all);
  return {
    addresses: count,
    trials: s.n,
    'all moved p50 ms': s.p50,
    'p99 ms': s.p99,
    'max ms': s.max,
    target: count <= 128 ? 'p99 ≤ 50 ms' : 'p99 ≤ 250 ms',
  };
}

export async function routesBench(args: string[]): Promise<string> {
  const parts: string[] = [];
  if (!args.includes('--addresses-only')) parts.push(await tableBench(args));
  if (args.includes('--table-only')) return parts.join('\n');
  const trials = option(args, '--trials', 20);
  const rows = [await addressesBench(128, trials), await addressesBench(1024, trials)];
  parts.push(
    `### link cut → every address of the group moved (link-down to the last move, ipmpd's log)\n\n${table(rows)}\n`,
  );
  return parts.join('\n');
}
