// A CPU profile of ipmpd probing in the seed-A lab, for finding hot paths:
//   npm run bench -- profile [--fdt 100ms] [--seconds 30] [--warmup 10] [--keep]
// prints the top functions by self time over the steady state (samples of the first
// --warmup seconds, start-up included, are left out); --keep keeps the .cpuprofile
// (open it in Chrome DevTools), otherwise it is removed with its directory.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../test/lab/lab.js';
import { twoNicGroup } from '../test/lab/topologies.js';
import { sleep } from './proc.js';
import { table } from './stats.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export async function profileBench(args: string[]): Promise<string> {
  const fdt = args[args.indexOf('--fdt') + 1] && args.includes('--fdt') ? args[args.indexOf('--fdt') + 1]! : '100ms';
  const seconds = args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 30;
  const warmupS = args.includes('--warmup') ? Number(args[args.indexOf('--warmup') + 1]) : 10;
  const keep = args.includes('--keep');
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-profile-'));
  const config = join(dir, 'ipmpd.yaml');
  writeFileSync(
    config,
    `admin_socket: ${join(dir, 'admin.sock')}\nfailure_detection_time: ${fdt}\nfix_sysctls: true\ngroups:\n  - name: bench\n    interfaces:\n      - name: eth0\n        test_address: 198.18.11.6/24\n      - name: eth1\n        test_address: 198.18.11.7/24\n    data_addresses: [198.18.11.5/24]\n    probe_targets: [198.18.11.21, 198.18.11.22, 198.18.11.1]\n`,
  );
  const lab = await Lab.create(twoNicGroup());
  try {
    const child = lab.spawn(
      'ipmp',
      [
        'node',
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        MAIN,
        'run',
        '--config.file',
        config,
        '--log.level',
        'info',
        '--web.listen-address',
        '127.0.0.1:9740',
      ],
      { stdio: 'ignore' },
    );
    await sleep((warmupS + seconds) * 1000);
    await lab.stopProcess(child, 'SIGTERM', 5000);
  } finally {
    await lab.destroy();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  if (!keep) rmSync(dir, { recursive: true, force: true });
  const { rows, busy, kept } = topFunctions(profile, warmupS * 1e6);
  const where = keep ? `profile: ${join(dir, file)}` : 'profile removed (--keep keeps it)';
  return `${table(rows)}\n\n${where}; ${busy} busy samples of ${kept} after the first ${warmupS} s (${((100 * busy) / kept).toFixed(1)} % busy)\n`;
}

/** Self and inclusive share of the busy samples taken after `skipUs` of the profile, per function. */
function topFunctions(profile: CpuProfile, skipUs: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let t = profile.startTime;
  let busy = 0;
  let kept = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t - profile.startTime < skipUs) return;
    kept++;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') return;
    busy++;
    self.set(keyOf(node), (self.get(keyOf(node)) ?? 0) + 1);
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) onStack.add(keyOf(byId.get(at)!));
    for (const k of onStack) inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
  });
  const pct = (hits: number) => ((100 * hits) / Math.max(1, busy)).toFixed(1);
  const rows = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 40)
    .map(([fn, hits]) => ({ function: fn, 'self % of busy': pct(hits), 'total %': pct(inclusive.get(fn) ?? 0) }));
  return { rows, busy, kept };
}
