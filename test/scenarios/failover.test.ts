// Failover on the real kernel: link and silent failures move the address and
// the client is answered again, repair fails back (or not, with FAILBACK off),
// a group failure moves nothing, a restart moves nothing, a re-plugged NIC
// rejoins. ipmpd runs in the IPMP host's namespace of a seed-A lab; faults are
// injected at the switch. Time bounds
// are loose (a few × FDT); the tight figures are measured by bench/failover.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { startPinger } from '../lab/pinger.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from './ipmpd.js';

const DATA = '198.18.11.5';
const DATA6 = '2001:db8:11::5';
const moved = (to: string, since: number) => (l: LogLine) =>
  l.event === 'address_moved' && l.to === to && l.at >= since;

async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A lab with ipmpd running and the address placed on eth0, default route in place. */
async function startedLab(yaml: string): Promise<{ lab: Lab; ipmpd: IpmpdProcess }> {
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', yaml);
  await ipmpd.waitFor('the first placement of the data address', moved('eth0', 0), 15_000);
  await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
  await ipmpd.waitFor(
    'a first probe answer on both NICs',
    () =>
      ipmpd.lines
        .filter((l) => l.event === 'probe_acked')
        .map((l) => l.ifname)
        .filter((v, i, a) => a.indexOf(v) === i).length === 2,
    15_000,
  );
  return { lab, ipmpd };
}

describe('failover on the real kernel', { concurrency: false }, () => {
  let lab: Lab;
  let ipmpd: IpmpdProcess;

  before(async () => {
    ({ lab, ipmpd } = await startedLab(twoNicYaml({ fdt: '1s', data6: `${DATA6}/64` })));
  });
  after(async () => {
    await ipmpd?.stop();
    await lab?.destroy();
  });

  test('link failure: the address moves at once, the client is answered again, cause link', async () => {
    assert.deepEqual(await lab.holders('ipmp', DATA), ['eth0']);
    const pinger = startPinger(lab, 'client', DATA, 10);
    await pinger.waitForReply(Date.now(), 5000);
    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    const failure = await ipmpd.waitFor(
      'eth0 failure',
      (l) => l.event === 'interface_failed' && l.interface === 'eth0' && l.at >= t0,
      5000,
    );
    assert.equal(failure.cause, 'link');
    await ipmpd.waitFor('the move to eth1', moved('eth1', t0), 5000);
    const answered = await pinger.waitForReply(t0, 5000);
    const result = await pinger.stop();
    assert.ok(answered - t0 < 3000, `client outage ${answered - t0} ms`);
    assert.ok(result.replies.length > 0);
    assert.deepEqual(await lab.holders('ipmp', DATA), ['eth1']);
    assert.deepEqual(await lab.holders('ipmp', DATA6), ['eth1']);
  });

  test("the client's neighbour entries point at the new NIC's MAC (IPv4 and IPv6)", async () => {
    const mac1 = await lab.mac('ipmp', 'eth1');
    assert.equal(await lab.neighbor('client', DATA), mac1);
    assert.ok(
      await lab.ping('client', DATA6, { count: 1, timeoutMs: 2000 }),
      'IPv6 data address unreachable after the move',
    );
    assert.equal(await lab.neighbor('client', DATA6), mac1);
  });

  test('repair and failback: carrier back, ten answered probes, the address returns home', async () => {
    const t0 = Date.now();
    await lab.restoreCarrier('ipmp', 'eth0');
    const repair = await ipmpd.waitFor(
      'eth0 repair',
      (l) => l.event === 'interface_repaired' && l.interface === 'eth0' && l.at >= t0,
      10_000,
    );
    const back = await ipmpd.waitFor('the failback', moved('eth0', t0), 5000);
    assert.equal(back.reason, 'failback');
    const acks = ipmpd.lines.filter(
      (l) => l.event === 'probe_acked' && l.ifname === 'eth0' && l.at >= t0 && l.at <= repair.at,
    );
    assert.ok(acks.length >= 10, `repaired after ${acks.length} answered probes`);
    assert.deepEqual(await lab.holders('ipmp', DATA), ['eth0']);
    assert.equal(await lab.neighbor('client', DATA), await lab.mac('ipmp', 'eth0'));
  });

  test('silent failure: port detached, moved after at least five lost probes, cause probe; client answered again', async () => {
    const pinger = startPinger(lab, 'client', DATA, 10);
    await pinger.waitForReply(Date.now(), 5000);
    const t0 = Date.now();
    await lab.silentCut('ipmp', 'eth0');
    const failure = await ipmpd.waitFor(
      'eth0 probe failure',
      (l) => l.event === 'interface_failed' && l.interface === 'eth0' && l.at >= t0,
      5000,
    );
    assert.equal(failure.cause, 'probe');
    const lost = ipmpd.lines.filter(
      (l) => l.event === 'probe_lost' && l.ifname === 'eth0' && l.at >= t0 && l.at <= failure.at,
    );
    assert.ok(lost.length >= 5, `failed after ${lost.length} lost probes`);
    await ipmpd.waitFor('the move to eth1', moved('eth1', t0), 5000);
    const answered = await pinger.waitForReply(failure.at, 5000);
    await pinger.stop();
    assert.ok(answered - t0 < 4000, `client outage ${answered - t0} ms`);
    assert.deepEqual(await lab.holders('ipmp', DATA), ['eth1']);
    await lab.reattach('ipmp', 'eth0');
    await waitUntil(
      'both addresses back on eth0',
      async () =>
        (await lab.holders('ipmp', DATA)).join() === 'eth0' && (await lab.holders('ipmp', DATA6)).join() === 'eth0',
      10_000,
    );
  });

  test('group failure: both NICs cut, the group fails, the address stays on one NIC, nothing flaps', async () => {
    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth1');
    await lab.cutCarrier('ipmp', 'eth0');
    await ipmpd.waitFor('the group failure', (l) => l.event === 'group_failed' && l.at >= t0, 5000);
    await new Promise((r) => setTimeout(r, 3000));
    const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as { groups: Array<{ state: string }> };
    assert.equal(status.groups[0]!.state, 'failed');
    assert.deepEqual(await lab.holders('ipmp', DATA), ['eth0']);
    const movedDuring = ipmpd.lines.filter((l) => l.event === 'address_moved' && l.at >= t0);
    assert.equal(movedDuring.length, 0, `an address moved during the group failure: ${JSON.stringify(movedDuring)}`);
    await lab.restoreCarrier('ipmp', 'eth0');
    await lab.restoreCarrier('ipmp', 'eth1');
    await ipmpd.waitFor('the group usable again', (l) => l.event === 'group_usable' && l.at >= t0, 10_000);
  });
});

describe('FAILBACK=no and restart', { concurrency: false }, () => {
  test('with FAILBACK off the address stays on the backup after repair', async () => {
    const { lab, ipmpd } = await startedLab(twoNicYaml({ fdt: '1s', failback: false }));
    try {
      const t0 = Date.now();
      await lab.cutCarrier('ipmp', 'eth0');
      await ipmpd.waitFor('the move to eth1', moved('eth1', t0), 5000);
      await lab.restoreCarrier('ipmp', 'eth0');
      await ipmpd.waitFor(
        'eth0 repair',
        (l) => l.event === 'interface_repaired' && l.interface === 'eth0' && l.at >= t0,
        10_000,
      );
      await new Promise((r) => setTimeout(r, 2000));
      assert.deepEqual(await lab.holders('ipmp', DATA), ['eth1']);
      assert.equal(ipmpd.lines.filter(moved('eth0', t0)).length, 0);
    } finally {
      await ipmpd.stop();
      await lab.destroy();
    }
  });

  test('restart with the address already placed: no failover, no address change', async () => {
    const { lab, ipmpd } = await startedLab(twoNicYaml({ fdt: '1s' }));
    try {
      // put the address on eth1 first, so "where it is" differs from its home
      const t0 = Date.now();
      await lab.cutCarrier('ipmp', 'eth0');
      await ipmpd.waitFor('the move to eth1', moved('eth1', t0), 5000);
      await ipmpd.stop();
      await lab.restoreCarrier('ipmp', 'eth0');
      const before = await lab.exec('ipmp', ['ip', '-j', 'addr']);
      const routesBefore = await lab.exec('ipmp', ['ip', 'route']);
      const again = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }), { dir: ipmpd.dir });
      try {
        await again.waitFor('started', (l) => l.event === 'started', 10_000);
        await new Promise((r) => setTimeout(r, 3000));
        assert.equal(again.events('address_moved').length, 0, 'the restart moved an address');
        assert.deepEqual(await lab.holders('ipmp', DATA), ['eth1']);
        assert.equal((await lab.exec('ipmp', ['ip', '-j', 'addr'])).stdout, before.stdout);
        assert.equal((await lab.exec('ipmp', ['ip', 'route'])).stdout, routesBefore.stdout);
      } finally {
        await again.stop();
      }
    } finally {
      await lab.destroy();
    }
  });
  test('a NIC unplugged and plugged back gets its test address again, is probed, and takes the address when the other fails', async () => {
    const { lab, ipmpd } = await startedLab(twoNicYaml({ fdt: '1s' }));
    try {
      const t0 = Date.now();
      await lab.removeNic('ipmp', 'eth1');
      await ipmpd.waitFor(
        'eth1 gone',
        (l) => l.event === 'interface_vanished' && l.interface === 'eth1' && l.at >= t0,
        5000,
      );
      await lab.recreateNic('ipmp', 'eth1');
      await ipmpd.waitFor(
        'its test address restored',
        (l) => l.event === 'test_address_added' && String(l.address).endsWith('on eth1') && l.at >= t0,
        5000,
      );
      await ipmpd.waitFor(
        'eth1 answered again',
        (l) => l.event === 'probe_acked' && l.ifname === 'eth1' && l.at >= t0,
        10_000,
      );
      assert.ok((await lab.addresses('ipmp', 'eth1')).some((a) => a.cidr === '198.18.11.7/24'));
      // and it is a usable member: a silent failure of eth0 moves the address to it
      const t1 = Date.now();
      await lab.silentCut('ipmp', 'eth0');
      await ipmpd.waitFor('the move to eth1', moved('eth1', t1), 10_000);
      assert.deepEqual(await lab.holders('ipmp', DATA), ['eth1']);
    } finally {
      await ipmpd.stop();
      await lab.destroy();
    }
  });
});
