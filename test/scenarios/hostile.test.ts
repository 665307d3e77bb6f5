// Hostile input on the real kernel: forged echo replies must not keep
// a dead NIC alive, a flood of unrelated ICMP must not disturb probing, and the
// HTTP port must stay correct under a burst of concurrent scrapes and refuse
// malformed requests. Seed-A lab, FDT 1 s, targets found from the default route.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { probeIdentifier } from '../../src/net/icmp/packet.js';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from './ipmpd.js';
import { parseSamples, total, type Sample } from './metricsText.js';

const SENDER = fileURLToPath(new URL('../lab/icmpSender.js', import.meta.url));
const DATA = '198.18.11.5';
const TEST_ADDRESS = { eth0: '198.18.11.6', eth1: '198.18.11.7' } as const;
const ANSWERING_HOSTS = ['router', 't1', 't2'];

async function nft(lab: Lab, host: string, script: string): Promise<void> {
  await lab.exec(host, ['nft', '-f', '-'], { input: script });
}
const dropTable = (name: string) => `table ip ${name}\ndelete table ip ${name}\n`;

describe('hostile input on the real kernel', { concurrency: false }, () => {
  let lab: Lab;
  let ipmpd: IpmpdProcess;
  const metrics = async (): Promise<Sample[]> => parseSamples((await ipmpd.http('/metrics')).body);
  const failedSince = (nic: string, t: number) => (l: LogLine) =>
    l.event === 'interface_failed' && l.interface === nic && l.at >= t;
  const repairedSince = (nic: string, t: number) => (l: LogLine) =>
    l.event === 'interface_repaired' && l.interface === nic && l.at >= t;

  before(async () => {
    lab = await Lab.create(twoNicGroup());
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
    await ipmpd.waitFor('the first placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    await ipmpd.waitFor(
      'answers on both NICs',
      () => new Set(ipmpd.events('probe_acked').map((l) => l.ifname)).size === 2,
      15_000,
    );
  });
  after(async () => {
    await ipmpd?.stop();
    await lab?.destroy();
  });

  test('replies from a non-target source do not count: the NIC fails on probes', async () => {
    const before = total(await metrics(), 'ipmp_probe_ignored_packets_total', { reason: 'not_a_target' });
    const t0 = Date.now();
    // every answering host rewrites the source of its echo replies to eth0's test address
    const spoof = `table ip ipmpd_spoof {\n chain out { type filter hook output priority 0; ip daddr ${TEST_ADDRESS.eth0} icmp type echo-reply ip saddr set 198.18.11.99; }\n}\n`;
    for (const h of ANSWERING_HOSTS) await nft(lab, h, spoof);
    try {
      const failure = await ipmpd.waitFor('eth0 failing on probes', failedSince('eth0', t0), 10_000);
      assert.equal(failure.cause, 'probe');
      const ignored = total(await metrics(), 'ipmp_probe_ignored_packets_total', { reason: 'not_a_target' }) - before;
      assert.ok(ignored >= 5, `only ${ignored} replies were ignored as not_a_target`);
      assert.deepEqual(await lab.holders('ipmp', DATA), ['eth1']);
    } finally {
      for (const h of ANSWERING_HOSTS) await nft(lab, h, dropTable('ipmpd_spoof'));
    }
    await ipmpd.waitFor('eth0 repaired', repairedSince('eth0', t0), 15_000);
  });

  test("forged replies from the target with ipmpd's identifier and the coming sequence numbers do not count", async () => {
    const ifindex = Number((await lab.exec('ipmp', ['cat', '/sys/class/net/eth1/ifindex'])).stdout.trim());
    const id = probeIdentifier(ipmpd.child.pid!, ifindex);
    const before = total(await metrics(), 'ipmp_probe_ignored_packets_total', { reason: 'foreign_identifier' });
    // the forger knows all but the nonce: the identifier and the next sequence numbers
    // (each of the next 128 is forged every 64 ms, inside every probe's wait)
    const lastSeq = Number(
      ipmpd
        .events('probe_acked')
        .filter((l) => l.ifname === 'eth1')
        .at(-1)!.seq,
    );
    const forger = lab.spawn(
      'client',
      [
        'node',
        SENDER,
        'guess',
        '--from',
        '198.18.11.1',
        '--to',
        TEST_ADDRESS.eth1,
        '--id',
        String(id),
        '--seq-start',
        String(lastSeq + 1),
        '--seq-span',
        '128',
        '--pps',
        '2000',
        '--seconds',
        '60',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let forgerOutput = '';
    forger.stdout!.on('data', (d: Buffer) => (forgerOutput += d.toString()));
    // forging first (seen once ipmpd ignores any packet more), then the targets stop answering eth1
    const allIgnored = async () => total(await metrics(), 'ipmp_probe_ignored_packets_total');
    const ignoredBefore = await allIgnored();
    for (let i = 0; i < 100 && (await allIgnored()) === ignoredBefore; i++) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const deaf = `table ip ipmpd_deaf {\n chain in { type filter hook input priority 0; ip saddr ${TEST_ADDRESS.eth1} icmp type echo-request drop; }\n}\n`;
    for (const h of ANSWERING_HOSTS) await nft(lab, h, deaf);
    try {
      // the forger is still at it: only the nonce can tell its replies apart
      const failure = await ipmpd.waitFor('eth1 failing despite forged replies', failedSince('eth1', t0), 6_000);
      assert.equal(failure.cause, 'probe');
      await lab.stopProcess(forger);
      const forged = Number(forgerOutput.trim());
      const ignored =
        total(await metrics(), 'ipmp_probe_ignored_packets_total', { reason: 'foreign_identifier' }) - before;
      assert.ok(
        forged > 1000 && ignored >= forged * 0.9,
        `${forged} forged replies sent, ${ignored} ignored as foreign`,
      );
      assert.deepEqual(await lab.holders('ipmp', DATA), ['eth0']);
    } finally {
      await lab.stopProcess(forger);
      for (const h of ANSWERING_HOSTS) await nft(lab, h, dropTable('ipmpd_deaf'));
    }
    await ipmpd.waitFor('eth1 repaired', repairedSince('eth1', t0), 15_000);
  });

  test('a flood of unrelated ICMP (another ping, random types, junk) does not disturb probing', async () => {
    const m0 = await metrics();
    const t0 = Date.now();
    const floods = [
      // someone else pinging from this host: echo replies every raw ICMP socket sees
      lab.exec('ipmp', ['ping', '-q', '-n', '-i', '0.001', '-w', '5', '-I', 'eth0', '198.18.11.50'], {
        allowFail: true,
      }),
      lab.exec('ipmp', ['ping', '-q', '-n', '-i', '0.001', '-w', '5', '-I', 'eth1', '198.18.11.50'], {
        allowFail: true,
      }),
      lab.exec('client', [
        'node',
        SENDER,
        'junk',
        '--from',
        '198.18.11.50',
        '--to',
        TEST_ADDRESS.eth0,
        '--pps',
        '1000',
        '--seconds',
        '5',
        '--seed',
        '5',
      ]),
      lab.exec('client', [
        'node',
        SENDER,
        'junk',
        '--from',
        '198.18.11.50',
        '--to',
        TEST_ADDRESS.eth1,
        '--pps',
        '1000',
        '--seconds',
        '5',
        '--seed',
        '6',
      ]),
    ];
    await Promise.all(floods);
    await new Promise((r) => setTimeout(r, 1500)); // probes sent during the flood have had time to be answered
    const m1 = await metrics();
    const delta = (name: string, match: Record<string, string> = {}) => total(m1, name, match) - total(m0, name, match);
    assert.equal(
      ipmpd.lines.filter((l) => l.at >= t0 && (l.event === 'interface_failed' || l.event === 'address_moved')).length,
      0,
      'a failure or move during the flood',
    );
    // every probe of the flood was answered: a reply the flood delayed past its (sub-ms) timeout
    // still counts once it arrives, as in.mpathd's late replies do; one never answered does not
    const during = ipmpd.lines.filter((l) => l.at >= t0 && (l.event === 'probe_acked' || l.event === 'probe_lost'));
    const answered = new Set(
      during.filter((l) => l.event === 'probe_acked').map((l) => `${String(l.ifname)}/${String(l.seq)}`),
    );
    const unanswered = during.filter(
      (l) => l.event === 'probe_lost' && !answered.has(`${String(l.ifname)}/${String(l.seq)}`),
    );
    assert.deepEqual(
      unanswered.map((l) => `${String(l.ifname)} seq ${String(l.seq)}`),
      [],
      'probes never answered during the flood',
    );
    assert.ok(
      delta('ipmp_probe_requests_total') >= 2 * 30,
      `only ${delta('ipmp_probe_requests_total')} probes sent in 6.5 s`,
    );
    const foreign =
      delta('ipmp_probe_ignored_packets_total', { reason: 'foreign_identifier' }) +
      delta('ipmp_probe_ignored_packets_total', { reason: 'malformed' });
    assert.ok(foreign > 2000, `the flood did not reach ipmpd's sockets (${foreign} packets ignored)`);
  });

  test('500 concurrent scrapes: every one answered 200 with a consistent snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipmpd-scrapes-'));
    try {
      const r = await lab.exec(
        'ipmp',
        [
          'curl',
          '-s',
          '-Z',
          '--parallel-max',
          '100',
          '-w',
          '%{http_code}\\n',
          '-o',
          `${dir}/#1.txt`,
          `http://127.0.0.1:${ipmpd.port}/metrics?n=[1-500]`,
        ],
        { timeoutMs: 60_000 },
      );
      const codes = r.stdout.trim().split('\n');
      assert.equal(codes.length, 500);
      assert.deepEqual([...new Set(codes)], ['200']);
      for (let n = 1; n <= 500; n++) {
        const samples = parseSamples(readFileSync(join(dir, `${n}.txt`), 'utf8'));
        assert.equal(
          total(samples, 'ipmp_address_holder', { ip_address: DATA }),
          1,
          `scrape ${n}: the address is not held exactly once`,
        );
        assert.equal(total(samples, 'ipmp_group_interfaces'), 2, `scrape ${n}: group interface count`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('oversized and malformed HTTP requests are refused; the port keeps serving', async () => {
    const url = `http://127.0.0.1:${ipmpd.port}/metrics`;
    // bytes straight onto a TCP connection: what a broken or hostile client sends
    const rawRequest = async (file: string) =>
      (
        await lab.exec(
          'ipmp',
          ['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${ipmpd.port}; cat '${file}' >&3 2>/dev/null; timeout 5 cat <&3`],
          { allowFail: true },
        )
      ).stdout;
    const code = async (args: string[]) =>
      (await lab.exec('ipmp', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', ...args], { allowFail: true }))
        .stdout;
    // big inputs go through files: one argv string may not exceed 128 KiB
    const dir = mkdtempSync(join(tmpdir(), 'ipmpd-http-'));
    try {
      writeFileSync(join(dir, 'header'), `X-Big: ${'a'.repeat(64 * 1024)}\n`);
      writeFileSync(join(dir, 'long-url'), `GET /metrics?${'q'.repeat(256 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      writeFileSync(join(dir, 'garbage'), 'NOT HTTP AT ALL\r\n\r\n');
      writeFileSync(join(dir, 'body'), 'x'.repeat(1 << 20));
      assert.equal(await code(['-H', `@${dir}/header`, url]), '431');
      assert.match(await rawRequest(`${dir}/long-url`), /^HTTP\/1\.1 431 /);
      assert.match(await rawRequest(`${dir}/garbage`), /^HTTP\/1\.1 400 Bad Request/);
      assert.equal(await code(['-X', 'POST', '--data-binary', `@${dir}/body`, url]), '405');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(await code([url]), '200');
  });
});
