// The container's capabilities must survive no-new-privileges
// (Docker's --security-opt no-new-privileges, Kubernetes'
// allowPrivilegeEscalation: false). Shown with setpriv, no container engine:
// file capabilities on a node binary give nothing to a non-root user under
// no-new-privileges, while uid 0 holding only NET_RAW and NET_ADMIN (what the
// image and the DaemonSet now do) keeps them, and runs ipmpd through a failover.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const NET_RAW_AND_NET_ADMIN = 0x3000n; // CAP_NET_ADMIN (12) | CAP_NET_RAW (13)
const SHOW =
  "const s=require('fs').readFileSync('/proc/self/status','utf8');console.log(s.match(/^CapEff:\\s*(\\w+)/m)[1], s.match(/^NoNewPrivs:\\s*(\\d)/m)[1])";

function capabilitiesOf(status: string): { effective: bigint; noNewPrivs: boolean } {
  return {
    effective: BigInt(`0x${/^CapEff:\s*(\w+)/m.exec(status)![1]}`),
    noNewPrivs: /^NoNewPrivs:\s*1$/m.test(status),
  };
}

test('file capabilities on node give a non-root user nothing under no-new-privileges', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-caps-'));
  try {
    chmodSync(dir, 0o755);
    const node = join(dir, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
    execFileSync('setcap', ['cap_net_raw,cap_net_admin+ep', node]);
    // through a shell, as a container's entrypoint is reached: the user starts with no capabilities of its own
    const run = (nnp: boolean) => {
      const [caps, flag] = execFileSync(
        'setpriv',
        [
          '--reuid',
          'nobody',
          '--regid',
          'nogroup',
          '--clear-groups',
          ...(nnp ? ['--no-new-privs'] : []),
          'sh',
          '-c',
          `exec "${node}" -e "${SHOW}"`,
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split(' ');
      return { effective: BigInt(`0x${caps}`), noNewPrivs: flag === '1' };
    };
    assert.deepEqual(
      run(false),
      { effective: NET_RAW_AND_NET_ADMIN, noNewPrivs: false },
      'file capabilities work without no-new-privileges',
    );
    assert.deepEqual(run(true), { effective: 0n, noNewPrivs: true }, 'and are dropped with it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('uid 0 with only NET_RAW and NET_ADMIN under no-new-privileges runs ipmpd through a failover', async () => {
  const lab = await Lab.create(twoNicGroup());
  let ipmpd: IpmpdProcess | undefined;
  try {
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }), {
      launcher: ['setpriv', '--no-new-privs', '--bounding-set', '-all,+net_raw,+net_admin', '--inh-caps', '-all'],
    });
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved' && l.to === 'eth0', 15_000);
    // `ip netns exec` and setpriv exec in place: the child's pid is node's
    const caps = capabilitiesOf(readFileSync(`/proc/${ipmpd.child.pid}/status`, 'utf8'));
    assert.deepEqual(caps, { effective: NET_RAW_AND_NET_ADMIN, noNewPrivs: true });
    // raw sockets work: each NIC's probes are answered
    for (const ifname of ['eth0', 'eth1'])
      await ipmpd.waitFor(
        `a probe answered on ${ifname}`,
        (l) => l.event === 'probe_acked' && l.ifname === ifname,
        10_000,
      );
    assert.equal((await ipmpd.http('/-/ready')).status, 200);
    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    await ipmpd.waitFor(
      'failover to eth1',
      (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t0,
      10_000,
    );
    assert.match((await lab.exec('ipmp', ['ip', '-br', 'addr', 'show', 'eth1'])).stdout, /198\.18\.11\.5\/24/);
  } finally {
    await ipmpd?.stop();
    await lab.destroy();
  }
});
