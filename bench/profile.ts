// A CPU profile of ipmpd probing in the seed-A lab, for finding hot paths:
//   npm run bench -- profile [--fdt 100ms] [--seconds 30]
// writes a .cpuprofile (open it in Chrome DevTools) and prints the top functions by self time.

import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../test/lab/lab.js';
import { twoNicGroup } from '../test/lab/topologies.js';
import { sleep } from './proc.js';
import { table } from './stats.js';
import { writeFileSync } from 'node:fs';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

export async function profileBench(args: string[]): Promise<string> {
  const fdt = args[args.indexOf('--fdt') + 1] && args.includes('--fdt') ? args[args.indexOf('--fdt') + 1]! : '100ms';
  const seconds = args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 30;
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
    await sleep(seconds * 1000);
    await lab.stopProcess(child, 'SIGTERM', 5000);
  } finally {
    await lab.destroy();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const total = profile.samples.filter((id) => !idle.has(id)).length;
  const self = new Map<string, number>();
  for (const n of profile.nodes.filter((x) => !idle.has(x.id))) {
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + n.hitCount);
  }
  const rows = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 40)
    .map(([fn, hits]) => ({ function: fn, 'self % of busy': ((100 * hits) / total).toFixed(1) }));
  return `${table(rows)}\n\nprofile: ${join(dir, file)} (${total} busy samples of ${profile.samples.length})\n`;
}
