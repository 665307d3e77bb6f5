// Issue 7's reload and shutdown: a valid new config is applied without moving
// addresses that need not move; an invalid one is refused and the old one
// keeps running; SIGTERM leaves the addresses where they are.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

async function holders(lab: Lab, address: string): Promise<string[]> {
  return (await lab.addresses('ipmp')).filter((a) => a.cidr.split('/')[0] === address).map((a) => a.dev).sort();
}

test('reload on SIGHUP and through the admin socket; graceful shutdown', async () => {
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
  try {
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    const configFile = join(ipmpd.dir, 'ipmpd.yaml');
    const write = (yaml: string) => writeFileSync(configFile, `admin_socket: ${ipmpd.adminSocket}\n${yaml}`);

    // a valid change: slower FDT and one more data address
    const t0 = Date.now();
    write(twoNicYaml({ fdt: '2s' }).replace('        preferred_interface: eth0\n', '        preferred_interface: eth0\n      - 198.18.11.15/24\n'));
    ipmpd.child.kill('SIGHUP');
    await ipmpd.waitFor('the reload', (l) => l.event === 'config_reloaded' && l.at >= t0, 10_000);
    await ipmpd.waitFor('the new address placed', (l) => l.event === 'address_moved' && l.ip_address === '198.18.11.15' && l.at >= t0, 10_000);
    assert.equal(ipmpd.lines.filter((l) => l.event === 'address_moved' && l.ip_address === '198.18.11.5' && l.at >= t0).length, 0, 'the reload moved an address that did not need to move');
    assert.deepEqual(await holders(lab, '198.18.11.5'), ['eth0']);
    const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as { groups: Array<{ fdtMs: number }> };
    assert.equal(status.groups[0]!.fdtMs, 2000);

    // an invalid file is refused, with the error, and the old configuration keeps running
    const t1 = Date.now();
    write('failure_detection_time: 10\n');
    ipmpd.child.kill('SIGHUP');
    const refused = await ipmpd.waitFor('the refusal', (l) => l.event === 'config_reload_failed' && l.at >= t1, 10_000);
    assert.match(refused.msg!, /ipmpd\.yaml:2:25: failure_detection_time: must be a duration/);
    assert.match((await ipmpd.http('/metrics')).body, /^ipmp_config_last_reload_successful 0$/m);
    const viaSocket = await lab.exec('ipmp', ['node', MAIN, 'reload', '--admin.socket', ipmpd.adminSocket], { allowFail: true });
    assert.equal(viaSocket.code, 1);
    assert.match(viaSocket.stderr, /must be a duration/);
    const t2 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    await ipmpd.waitFor('a failover under the old config', (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t2, 10_000);

    // SIGTERM: the daemon stops, the addresses stay
    const before = (await lab.exec('ipmp', ['ip', '-br', 'addr'])).stdout;
    await ipmpd.stop('SIGTERM');
    assert.equal(ipmpd.child.exitCode, 0);
    assert.equal((await lab.exec('ipmp', ['ip', '-br', 'addr'])).stdout, before);
    assert.deepEqual(await holders(lab, '198.18.11.5'), ['eth1']);
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
});
