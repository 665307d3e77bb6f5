// The converted seed-A config, run: every address lands where the seed's
// `ifconfig -a` shows it (192.168.11.5 and .6 on hme0, .7 on hme1: here
// 198.18.11.x on eth0/eth1), and the data address fails over as described.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importSolaris } from '../../src/solaris/convert.js';
import { Lab } from '../lab/lab.js';
import { SUN_TOPOLOGIES, twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess } from './ipmpd.js';

const SEED_A = fileURLToPath(new URL('../../../test/fixtures/solaris/unrealgrp1', import.meta.url));

test('the imported seed-A config places the addresses as on Solaris and fails over', async () => {
  const { yaml } = importSolaris(SEED_A, { hme0: 'eth0', hme1: 'eth1' });
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', `fix_sysctls: true\n${yaml.replace(/^#.*\n/gm, '')}`);
  try {
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    const on = async (dev: string) =>
      (await lab.addresses('ipmp', dev))
        .filter((a) => a.family === 4)
        .map((a) => a.cidr)
        .sort();
    assert.deepEqual(await on('eth0'), ['198.18.11.5/24', '198.18.11.6/24']);
    assert.deepEqual(await on('eth1'), ['198.18.11.7/24']);
    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    await ipmpd.waitFor('the failover', (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t0, 10_000);
    assert.deepEqual(await on('eth1'), ['198.18.11.5/24', '198.18.11.7/24']);
    assert.deepEqual(await on('eth0'), ['198.18.11.6/24'], 'the test address moved');
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
});

test('the imported Sun ipmp0 config (test addresses in the data subnet) places the addresses as on Solaris and fails over', async () => {
  const { yaml } = importSolaris(
    fileURLToPath(new URL('../../../test/fixtures/solaris/ipmp0-same-subnet', import.meta.url)),
    { qfe0: 'eth0', qfe4: 'eth1' },
  );
  const { build } = SUN_TOPOLOGIES['1.3'];
  const lab = await Lab.create(build());
  const ipmpd = IpmpdProcess.start(
    lab,
    'ipmp',
    `fix_sysctls: true\nfailure_detection_time: 1s\n${yaml.replace(/^#.*\n/gm, '').replace(/^failure_detection_time: .*\n/m, '')}`,
  );
  try {
    await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
    const on = async (dev: string) =>
      (await lab.addresses('ipmp', dev))
        .filter((a) => a.family === 4)
        .map((a) => a.cidr)
        .sort();
    // the document's ifconfig -a: qfe0 has host10 and its test address, qfe4 its test address
    assert.deepEqual(await on('eth0'), ['198.18.20.10/24', '198.18.20.210/24']);
    assert.deepEqual(await on('eth1'), ['198.18.20.220/24']);
    // both NICs must have been answered: an unanswered NIC is still in its 40 s start-up quiet period
    for (const nic of ['eth0', 'eth1'])
      await ipmpd.waitFor(`answers on ${nic}`, (l) => l.event === 'probe_acked' && l.ifname === nic, 10_000);
    const t0 = Date.now();
    await lab.silentCut('ipmp', 'eth0');
    const failed = await ipmpd.waitFor(
      'the probe failure',
      (l) => l.event === 'interface_failed' && l.interface === 'eth0' && l.at >= t0,
      10_000,
    );
    assert.equal(failed.cause, 'probe');
    await ipmpd.waitFor('the failover', (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t0, 10_000);
    assert.deepEqual(await on('eth1'), ['198.18.20.10/24', '198.18.20.220/24']);
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
});
