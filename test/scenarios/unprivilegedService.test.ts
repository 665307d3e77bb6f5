// The systemd unit runs ipmpd as an unprivileged user (DynamicUser=yes) that
// holds only CAP_NET_RAW and CAP_NET_ADMIN as ambient capabilities, under
// no-new-privileges. No systemd runs here, so the same process credentials are
// made with setpriv, and ipmpd must do all of its work with them: write the
// sysctls fix_sysctls asks for (net sysctls need CAP_NET_ADMIN, not uid 0),
// bind its sockets, probe, fail over, and take admin requests from root.
// systemd-analyze rates the unit file itself.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const UNIT = fileURLToPath(new URL('../../../deploy/systemd/ipmpd.service', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const NOBODY = 65534;
const NET_RAW_AND_NET_ADMIN = 0x3000n; // CAP_NET_ADMIN (12) | CAP_NET_RAW (13)
const CAPS = '-all,+net_raw,+net_admin';

test('systemd-analyze security rates the unit 2.0 or better', () => {
  const out = execFileSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8' });
  const exposure = Number(/Overall exposure level for ipmpd\.service: ([\d.]+)/.exec(out)?.[1]);
  assert.ok(exposure <= 2.0, `exposure ${exposure} > 2.0:\n${out}`);
  const unit = readFileSync(UNIT, 'utf8');
  assert.match(unit, /^DynamicUser=yes$/m, 'the service does not run as root');
  assert.match(unit, /^AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN$/m);
});

test('an unprivileged user with only ambient NET_RAW and NET_ADMIN fixes sysctls, fails over and answers root', async () => {
  const lab = await Lab.create(twoNicGroup());
  // the service's runtime directory belongs to its user, as RuntimeDirectory= makes it
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-test-'));
  chmodSync(dir, 0o755);
  chownSync(dir, NOBODY, NOBODY);
  let ipmpd: IpmpdProcess | undefined;
  try {
    const sysctl = async (name: string) =>
      (await lab.exec('ipmp', ['sysctl', '-n', `net.ipv4.conf.${name}`])).stdout.trim();
    assert.equal(await sysctl('eth0.arp_ignore'), '0', 'the lab starts with the kernel default');
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }), {
      dir,
      launcher: [
        'setpriv',
        '--reuid',
        String(NOBODY),
        '--regid',
        String(NOBODY),
        '--clear-groups',
        '--no-new-privs',
        '--inh-caps',
        CAPS,
        '--ambient-caps',
        CAPS,
        '--bounding-set',
        CAPS,
      ],
    });
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved' && l.to === 'eth0', 15_000);
    const status = readFileSync(`/proc/${ipmpd.child.pid}/status`, 'utf8');
    assert.equal(/^Uid:\s+(\d+)/m.exec(status)?.[1], String(NOBODY));
    assert.equal(BigInt(`0x${/^CapEff:\s*(\w+)/m.exec(status)![1]}`), NET_RAW_AND_NET_ADMIN);

    assert.ok(ipmpd.events('sysctl_fixed').length > 0, 'fix_sysctls wrote its fixes');
    assert.equal(await sysctl('eth0.arp_ignore'), '1');
    assert.equal(await sysctl('all.arp_announce'), '2');

    for (const ifname of ['eth0', 'eth1'])
      await ipmpd.waitFor(`a probe answered on ${ifname}`, (l) => l.event === 'probe_acked' && l.ifname === ifname);
    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    await ipmpd.waitFor('failover', (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t0, 10_000);
    await lab.restoreCarrier('ipmp', 'eth0');
    await ipmpd.waitFor('failback', (l) => l.event === 'address_moved' && l.to === 'eth0' && l.at >= t0, 20_000);

    // root reaches the service user's 0600 admin socket (as `ipmpd offline` under systemd does)
    const offline = await lab.exec('ipmp', ['node', MAIN, 'offline', 'eth1', '--admin.socket', ipmpd.adminSocket]);
    assert.match(offline.stdout, /eth1: offline/);
  } finally {
    await ipmpd?.stop();
    await lab.destroy();
  }
});
