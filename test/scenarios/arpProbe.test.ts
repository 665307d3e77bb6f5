// ARP probing on the real kernel (probe_method: arp): a two-NIC group without
// a single test address. A silent cut of the NIC holding the data address
// moves it; a silent cut of the other NIC fails that NIC and leaves the
// address alone; a target that drops every ICMP packet but answers ARP keeps
// the group healthy; forged ARP replies - from a non-target, or with the
// target's address but for the other NIC's MAC - never keep a deaf NIC alive;
// without a router, hosts of the neighbour table that answer become targets.
// Faults are injected at the switch or in the router's namespace. Time bounds
// are loose (2 x FDT); the tight figures are measured by bench/arpProbe.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { arpYaml, IpmpdProcess, twoNicYaml, type LogLine } from './ipmpd.js';
import { parseSamples, total } from './metricsText.js';

const SENDER = fileURLToPath(new URL('../lab/arpSender.js', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const DATA = '198.18.11.5';
const ROUTER = '198.18.11.1';
const CLIENT = '198.18.11.50';
const T1 = '198.18.11.21';
const T2 = '198.18.11.22';
const FDT_MS = 1000;

const moved = (to: string, since: number) => (l: LogLine) =>
  l.event === 'address_moved' && l.to === to && l.at >= since;
const failedSince = (ifname: string, since: number) => (l: LogLine) =>
  l.event === 'interface_failed' && l.interface === ifname && l.at >= since;
const repairedSince = (ifname: string, since: number) => (l: LogLine) =>
  l.event === 'interface_repaired' && l.interface === ifname && l.at >= since;

async function holders(lab: Lab): Promise<string[]> {
  const all = await lab.addresses('ipmp');
  return all
    .filter((a) => a.cidr.split('/')[0] === DATA)
    .map((a) => a.dev)
    .sort();
}

async function nft(lab: Lab, host: string, script: string): Promise<void> {
  await lab.exec(host, ['nft', '-f', '-'], { input: script });
}
const dropTable = (family: string, name: string) => `table ${family} ${name}\ndelete table ${family} ${name}\n`;

interface StatusJson {
  groups: Array<{
    interfaces: Array<{
      name: string;
      instances: Array<{
        family: number;
        method: string;
        testAddress?: string;
        targets: Array<{ address: string; replies: number; rttAverageMs: number }>;
      }>;
    }>;
  }>;
}

describe('ARP probing without test addresses', { concurrency: false }, () => {
  let lab: Lab;
  let ipmpd: IpmpdProcess;

  before(async () => {
    lab = await Lab.create(twoNicGroup());
    ipmpd = IpmpdProcess.start(lab, 'ipmp', arpYaml());
    await ipmpd.waitFor('the first placement of the data address', moved('eth0', 0), 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', ROUTER]);
    for (const nic of ['eth0', 'eth1'])
      await ipmpd.waitFor(
        `a first ARP answer on ${nic}`,
        (l) => l.event === 'probe_acked' && l.ifname === nic && l.method === 'arp' && l.target === ROUTER,
        15_000,
      );
  });
  after(async () => {
    await ipmpd?.stop();
    await lab?.destroy();
  });

  test('both NICs probe the router with ARP, without any test address, and the RTTs are measured', async () => {
    for (const nic of ['eth0', 'eth1']) {
      const own = (await lab.addresses('ipmp', nic)).filter((a) => a.family === 4).map((a) => a.cidr);
      assert.deepEqual(own, nic === 'eth0' ? [`${DATA}/24`] : [], `${nic}'s IPv4 addresses`);
    }
    await new Promise((r) => setTimeout(r, FDT_MS));
    const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as StatusJson;
    for (const i of status.groups[0]!.interfaces) {
      assert.equal(i.instances.length, 1, `${i.name}: one probing instance`);
      const inst = i.instances[0]!;
      assert.deepEqual([inst.family, inst.method, inst.testAddress], [4, 'arp', undefined]);
      const router = inst.targets.find((t) => t.address === ROUTER);
      assert.ok(router && router.replies >= 3, `${i.name}: router answered ${router?.replies} probes`);
      assert.ok(router.rttAverageMs > 0 && router.rttAverageMs < 50, `${i.name}: RTT ${router.rttAverageMs} ms`);
    }
    const stat = await ipmpd.stat(['-t', '-P', '-o', 'interface,method,testaddr,targets']);
    assert.equal(stat, `eth0:arp:--:${ROUTER}\neth1:arp:--:${ROUTER}\n`);
    // the runbook's way to send the same probe by hand, from a NIC without an IPv4 address
    const byHand = await lab.exec('ipmp', ['arping', '-D', '-I', 'eth1', '-c', '2', '-w', '3', ROUTER], {
      allowFail: true,
    });
    assert.match(byHand.stdout, new RegExp(`reply from ${ROUTER.replace(/\./g, '\\.')}`, 'i'));
  });

  test('silent cut of the NIC holding the data address: failed after five lost ARP probes, the address moves', async () => {
    const t0 = Date.now();
    await lab.silentCut('ipmp', 'eth0');
    try {
      const failure = await ipmpd.waitFor('eth0 probe failure', failedSince('eth0', t0), 10 * FDT_MS);
      assert.equal(failure.cause, 'probe');
      const lost = ipmpd.lines.filter(
        (l) => l.event === 'probe_lost' && l.ifname === 'eth0' && l.at >= t0 && l.at <= failure.at,
      );
      assert.ok(lost.length >= 5, `failed after ${lost.length} lost probes`);
      assert.ok(
        lost.every((l) => l.method === 'arp'),
        'every lost probe was an ARP probe',
      );
      const move = await ipmpd.waitFor('the move to eth1', moved('eth1', t0), 5000);
      assert.ok(move.at - t0 <= 2 * FDT_MS + 500, `moved ${move.at - t0} ms after the cut`);
      assert.deepEqual(await holders(lab), ['eth1']);
      assert.ok(await lab.ping('client', DATA, { count: 3, timeoutMs: 2000 }), 'the client reaches the moved address');
    } finally {
      await lab.reattach('ipmp', 'eth0');
    }
    await ipmpd.waitFor('eth0 repaired', repairedSince('eth0', t0), 10_000);
    const repairedAt = ipmpd.lines.find(repairedSince('eth0', t0))!.at;
    const acks = ipmpd.lines.filter(
      (l) => l.event === 'probe_acked' && l.ifname === 'eth0' && l.at >= t0 && l.at <= repairedAt,
    );
    assert.ok(acks.length >= 10, `repaired after ${acks.length} answered ARP probes`);
    await ipmpd.waitFor('the failback', moved('eth0', t0), 5000);
    assert.deepEqual(await holders(lab), ['eth0']);
  });

  test('silent cut of the other NIC: it fails, the address stays where it is', async () => {
    const t0 = Date.now();
    await lab.silentCut('ipmp', 'eth1');
    try {
      const failure = await ipmpd.waitFor('eth1 probe failure', failedSince('eth1', t0), 10 * FDT_MS);
      assert.equal(failure.cause, 'probe');
      assert.ok(failure.at - t0 <= 2 * FDT_MS + 500, `failed ${failure.at - t0} ms after the cut`);
      assert.deepEqual(await holders(lab), ['eth0']);
      assert.equal(ipmpd.lines.filter((l) => l.event === 'address_moved' && l.at >= t0).length, 0);
      assert.equal(ipmpd.lines.filter(failedSince('eth0', t0)).length, 0, 'eth0 failed too');
    } finally {
      await lab.reattach('ipmp', 'eth1');
    }
    await ipmpd.waitFor('eth1 repaired', repairedSince('eth1', t0), 10_000);
  });

  test('a target that drops every ICMP packet but answers ARP keeps the group healthy', async () => {
    await nft(
      lab,
      'router',
      'table ip ipmpd_noicmp {\n chain in { type filter hook input priority 0; ip protocol icmp drop; }\n}\n',
    );
    try {
      assert.equal(await lab.ping('client', ROUTER, { count: 2, timeoutMs: 1000 }), false, 'the router answered ICMP');
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 4 * FDT_MS));
      const failed = ipmpd.lines.filter(
        (l) => l.at >= t0 && (l.event === 'interface_failed' || l.event === 'probe_lost'),
      );
      assert.deepEqual(failed, [], 'a probe was lost while the router dropped ICMP');
      for (const nic of ['eth0', 'eth1']) {
        const acked = ipmpd.lines.filter((l) => l.event === 'probe_acked' && l.ifname === nic && l.at >= t0);
        assert.ok(acked.length >= 10, `${nic}: ${acked.length} ARP probes answered in 4 FDT`);
      }
    } finally {
      await nft(lab, 'router', dropTable('ip', 'ipmpd_noicmp'));
    }
  });

  test('forged ARP replies - from a non-target, or with the target address for the other NIC - never keep eth1 alive', async () => {
    const mac0 = await lab.mac('ipmp', 'eth0');
    const mac1 = await lab.mac('ipmp', 'eth1');
    const ignored = async () =>
      total(parseSamples((await ipmpd.http('/metrics')).body), 'ipmp_probe_ignored_packets_total', {
        reason: 'not_a_target',
      });
    const ignoredBefore = await ignored();
    const forge = (host: string, to: string, senderIp: string, targetMac: string) =>
      lab.spawn(
        host,
        [
          'node',
          SENDER,
          '--dev',
          'eth0',
          '--to',
          to,
          '--sender-ip',
          senderIp,
          '--target-mac',
          targetMac,
          '--pps',
          '50',
          '--seconds',
          '15',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
    const forgers = [
      forge('client', mac1, CLIENT, mac1), // a non-target answering eth1 itself
      forge('client', 'ff:ff:ff:ff:ff:ff', CLIENT, mac1), // the same, broadcast
      forge('router', mac1, ROUTER, mac0), // the target's address, for eth0's MAC, delivered to eth1
      forge('router', 'ff:ff:ff:ff:ff:ff', ROUTER, mac0), // the same, broadcast to both NICs
    ];
    // forging first (seen once ipmpd ignores a reply more), then the router stops answering
    // eth1's probes (its ARP requests are dropped at the router)
    for (let i = 0; i < 100 && (await ignored()) === ignoredBefore; i++) await new Promise((r) => setTimeout(r, 50));
    const deaf = `table arp ipmpd_deaf {\n chain in { type filter hook input priority 0; arp saddr ether ${mac1} drop; }\n}\n`;
    const t0 = Date.now();
    const ignoredAtT0 = await ignored();
    await nft(lab, 'router', deaf);
    try {
      const failure = await ipmpd.waitFor('eth1 failing despite forged replies', failedSince('eth1', t0), 6000);
      assert.equal(failure.cause, 'probe');
      assert.ok(failure.at - t0 <= 2 * FDT_MS + 500, `failed ${failure.at - t0} ms after the router went deaf`);
      assert.equal(ipmpd.lines.filter(failedSince('eth0', t0)).length, 0, 'eth0 failed');
      assert.deepEqual(await holders(lab), ['eth0']);
      // still forging: eth1 stays failed
      await new Promise((r) => setTimeout(r, 2 * FDT_MS));
      assert.equal(ipmpd.lines.filter(repairedSince('eth1', t0)).length, 0, 'eth1 repaired by forged replies');
      const ignoredDuring = (await ignored()) - ignoredAtT0;
      assert.ok(
        ignoredDuring >= 20,
        `only ${ignoredDuring} replies from the non-target reached ipmpd and were ignored`,
      );
    } finally {
      for (const f of forgers) await lab.stopProcess(f);
      await nft(lab, 'router', dropTable('arp', 'ipmpd_deaf'));
    }
    await ipmpd.waitFor('eth1 repaired once the router answers again', repairedSince('eth1', t0), 10_000);
  });
});

describe('ARP probing: hosts from the neighbour table, reloads', { concurrency: false }, () => {
  test('a host the table knows and that answers becomes a target of both NICs; a dead one in the table never does', async () => {
    const lab = await Lab.create(twoNicGroup());
    const ipmpd = IpmpdProcess.start(lab, 'ipmp', arpYaml());
    try {
      await ipmpd.waitFor('the first placement of the data address', moved('eth0', 0), 15_000);
      // t2 is dead but the table still has it (an entry can outlive its host for hours)
      await lab.silenceHost('t2');
      const t2mac = await lab.mac('t2', 'eth0');
      await lab.exec('ipmp', ['ip', 'neigh', 'replace', T2, 'lladdr', t2mac, 'dev', 'eth0', 'nud', 'stale']);
      assert.ok(await lab.ping('ipmp', T1, { count: 1, timeoutMs: 2000 }), 'the host cannot reach t1');
      for (const nic of ['eth0', 'eth1'])
        await ipmpd.waitFor(
          `t1 answering ${nic}'s ARP probes`,
          (l) => l.event === 'probe_acked' && l.ifname === nic && l.target === T1,
          10_000,
        );
      await new Promise((r) => setTimeout(r, 2 * FDT_MS));
      const status = JSON.parse((await ipmpd.http('/api/v1/status')).body) as StatusJson;
      for (const i of status.groups[0]!.interfaces)
        assert.deepEqual(
          i.instances[0]!.targets.map((t) => t.address),
          [T1],
          `${i.name}'s targets`,
        );
      assert.equal(
        ipmpd.lines.filter((l) => l.event === 'target_added' && l.target === T2).length,
        0,
        'the dead host became a target',
      );
      assert.equal(ipmpd.lines.filter((l) => l.event === 'interface_failed').length, 0);
    } finally {
      await ipmpd.stop();
      await lab.destroy();
    }
  });

  test('a reload from icmp to arp and back: the sockets follow, the members probe with the new method', async () => {
    const lab = await Lab.create(twoNicGroup());
    const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
    const reload = async (yaml: string) => {
      const t = Date.now();
      writeFileSync(join(ipmpd.dir, 'ipmpd.yaml'), `admin_socket: ${ipmpd.adminSocket}\n${yaml}`);
      ipmpd.child.kill('SIGHUP');
      await ipmpd.waitFor('the reload', (l) => l.event === 'config_reloaded' && l.at >= t, 10_000);
      return t;
    };
    const answered = (method: string, since: number) => async () => {
      for (const nic of ['eth0', 'eth1'])
        await ipmpd.waitFor(
          `an ${method} answer on ${nic}`,
          (l) => l.event === 'probe_acked' && l.ifname === nic && l.method === method && l.at >= since,
          10_000,
        );
    };
    try {
      await ipmpd.waitFor('the first placement of the data address', moved('eth0', 0), 15_000);
      await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', ROUTER]);
      await answered('icmp', 0)();
      const t0 = await reload(arpYaml());
      await answered('arp', t0)();
      // ARP probing works after the reload: a silent cut of eth1 fails it
      const t1 = Date.now();
      await lab.silentCut('ipmp', 'eth1');
      try {
        const failure = await ipmpd.waitFor('eth1 probe failure', failedSince('eth1', t1), 10 * FDT_MS);
        assert.equal(failure.cause, 'probe');
      } finally {
        await lab.reattach('ipmp', 'eth1');
      }
      await ipmpd.waitFor('eth1 repaired', repairedSince('eth1', t1), 10_000);
      const t2 = await reload(twoNicYaml({ fdt: '1s' }));
      await answered('icmp', t2)();
      await new Promise((r) => setTimeout(r, FDT_MS));
      const arpAfter = ipmpd.lines.filter((l) => l.event === 'probe_acked' && l.method === 'arp' && l.at >= t2 + 500);
      assert.deepEqual(arpAfter, [], 'ARP probes answered after the reload to icmp');
      assert.deepEqual(await holders(lab), ['eth0']);
    } finally {
      await ipmpd.stop();
      await lab.destroy();
    }
  });
});
