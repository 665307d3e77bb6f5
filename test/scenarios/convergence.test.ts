// Issue 19 part 2: proof that a failover converged. After a move the new NIC is
// watched for the first packet addressed to the moved address; until it
// arrives the address is inbound-silent and is announced again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { startPinger } from '../lab/pinger.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from './ipmpd.js';
import { parseSamples, total } from './metricsText.js';

const DATA = '198.18.11.5';
const DATA6 = '2001:db8:11::5';
const GROUP = { group: 'unrealgrp1' };
const SILENT = { group: 'unrealgrp1', ip_address: DATA };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const movedTo = (to: string, since: number) => (l: LogLine) =>
  l.event === 'address_moved' && l.to === to && l.at >= since;
/** The client drops every ARP packet that speaks for the data address: gratuitous ARP and replies alike. */
const DROP_ARP = `table arp ipmpd_stale\ndelete table arp ipmpd_stale\ntable arp ipmpd_stale {\n  chain input { type filter hook input priority 0; arp saddr ip ${DATA} drop; }\n}\n`;
const LIFT_ARP = 'table arp ipmpd_stale\ndelete table arp ipmpd_stale\n';

async function withIpmpd(fn: (lab: Lab, ipmpd: IpmpdProcess) => Promise<void>, data6?: string): Promise<void> {
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(
    lab,
    'ipmp',
    twoNicYaml({ fdt: '1s', failback: false, ...(data6 ? { data6 } : {}) }),
  );
  try {
    await ipmpd.waitFor('the first placement', movedTo('eth0', 0), 15_000);
    await fn(lab, ipmpd);
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
}

async function metrics(ipmpd: IpmpdProcess) {
  const samples = parseSamples((await ipmpd.http('/metrics')).body);
  return {
    converged: total(samples, 'ipmp_failover_convergence_seconds_count', GROUP),
    convergenceSum: total(samples, 'ipmp_failover_convergence_seconds_sum', GROUP),
    silent: total(samples, 'ipmp_address_inbound_silent_seconds', SILENT),
    silentSeries: samples.filter((s) => s.name === 'ipmp_address_inbound_silent_seconds').length,
    reannounced: total(samples, 'ipmp_silent_reannouncements_total', { ...GROUP, device: 'eth1' }),
    garpEth1: total(samples, 'ipmp_gratuitous_arp_sent_total', { ...GROUP, device: 'eth1' }),
  };
}

test("a client pinging the address: convergence is recorded within a few ms of the client's next packet", async () => {
  await withIpmpd(async (lab, ipmpd) => {
    const pinger = startPinger(lab, 'client', DATA, 200);
    try {
      await pinger.waitForReply(Date.now(), 5000);
      assert.equal((await metrics(ipmpd)).silentSeries, 0, 'the first placement is no failover: nothing watched');
      const t0 = Date.now();
      await lab.cutCarrier('ipmp', 'eth0');
      const move = await ipmpd.waitFor('the move to eth1', movedTo('eth1', t0), 5000);
      const converged = await ipmpd.waitFor('convergence', (l) => l.event === 'address_converged', 5000);
      const movedAt = Date.parse(move.time as string);
      const reply = await pinger.waitForReply(movedAt, 5000);
      // the kernel stamps the arrival: the record is as early as the packet, whatever the event loop was doing.
      // the first reply after the move answers the client's next request, which is the packet that converged the failover
      const convergedAt = Date.parse(converged.arrived_at as string);
      assert.ok(
        Math.abs(reply - convergedAt) <= 5,
        `converged at ${convergedAt}, the client's reply came at ${reply} (${reply - convergedAt} ms apart)`,
      );
      assert.ok(convergedAt >= movedAt, 'convergence after the move');
      assert.equal(converged.interface, 'eth1');
      assert.equal(converged.reannouncements, 0);
      const m = await metrics(ipmpd);
      assert.equal(m.converged, 1);
      assert.ok(
        Math.abs(m.convergenceSum * 1000 - (converged.convergence_ms as number)) < 1,
        `histogram sum ${m.convergenceSum} s, logged ${converged.convergence_ms as number} ms`,
      );
      assert.ok(
        (converged.convergence_ms as number) < 400,
        `the client pings every 200 ms: converged ${converged.convergence_ms as number} ms after the decision`,
      );
      assert.equal(m.silent, 0, 'not silent once a packet arrived');
      assert.equal(m.silentSeries, 1);
    } finally {
      await pinger.stop();
    }
  });
});

test('IPv6: the first echo request to the moved address converges it', async () => {
  await withIpmpd(async (lab, ipmpd) => {
    const pinger = startPinger(lab, 'client', DATA6, 200);
    try {
      await pinger.waitForReply(Date.now(), 5000);
      const t0 = Date.now();
      await lab.cutCarrier('ipmp', 'eth0');
      const move = await ipmpd.waitFor(
        'the move to eth1',
        (l) => movedTo('eth1', t0)(l) && l.ip_address === DATA6,
        5000,
      );
      const converged = await ipmpd.waitFor(
        'IPv6 convergence',
        (l) => l.event === 'address_converged' && l.ip_address === DATA6,
        5000,
      );
      const reply = await pinger.waitForReply(Date.parse(move.time as string), 5000);
      const arrived = Date.parse(converged.arrived_at as string);
      assert.ok(Math.abs(reply - arrived) <= 5, `converged ${reply - arrived} ms before the client's reply`);
      assert.equal(converged.interface, 'eth1');
      // nobody sends to the IPv4 address: it stays silent
      const samples = parseSamples((await ipmpd.http('/metrics')).body);
      assert.ok(total(samples, 'ipmp_address_inbound_silent_seconds', SILENT) > 0);
      assert.equal(
        total(samples, 'ipmp_address_inbound_silent_seconds', { group: 'unrealgrp1', ip_address: DATA6 }),
        0,
      );
    } finally {
      await pinger.stop();
    }
  }, `${DATA6}/64`);
});

test('a client that keeps its stale neighbour entry: silent and re-announced until the rule is lifted, then converged', async () => {
  await withIpmpd(async (lab, ipmpd) => {
    const pinger = startPinger(lab, 'client', DATA, 100);
    try {
      await pinger.waitForReply(Date.now(), 5000);
      await lab.exec('client', ['nft', '-f', '-'], { input: DROP_ARP });
      const eth0 = await lab.mac('ipmp', 'eth0');
      const t0 = Date.now();
      await lab.cutCarrier('ipmp', 'eth0');
      await ipmpd.waitFor('the move to eth1', movedTo('eth1', t0), 5000);
      await sleep(2500);
      const early = await metrics(ipmpd);
      assert.equal(await lab.neighbor('client', DATA), eth0, "the client's entry still names eth0");
      assert.ok(early.silent > 2 && early.silent < 4, `silent for ${early.silent} s, 2.5 s after the move`);
      assert.ok(early.reannounced >= 2, `${early.reannounced} re-announcements by 2.5 s (1 s and 2 s after the move)`);
      assert.equal(early.converged, 0, 'packets flooded to eth1 for eth0 MAC are no convergence');
      await sleep(2000);
      const later = await metrics(ipmpd);
      assert.ok(later.silent > early.silent + 1.5, `the silence grows: ${early.silent} s, then ${later.silent} s`);
      assert.ok(later.reannounced >= 3, `${later.reannounced} re-announcements by 4.5 s`);
      assert.ok(
        later.garpEth1 > early.garpEth1 || later.reannounced > early.reannounced,
        'the re-announcements leave as gratuitous ARP',
      );
      assert.equal(ipmpd.events('address_converged').length, 0);
      const lifted = Date.now();
      await lab.exec('client', ['nft', '-f', '-'], { input: LIFT_ARP });
      const converged = await ipmpd.waitFor(
        'convergence once the rule is lifted',
        (l) => l.event === 'address_converged',
        15_000,
      );
      assert.ok(Date.parse(converged.arrived_at as string) >= lifted);
      assert.ok((converged.reannouncements as number) >= 3);
      const done = await metrics(ipmpd);
      assert.equal(done.converged, 1);
      assert.equal(done.silent, 0);
      assert.equal(await lab.neighbor('client', DATA), await lab.mac('ipmp', 'eth1'));
    } finally {
      await pinger.stop();
    }
  });
});
