// The probe path on a real raw socket, over loopback only: probes leave by the
// NIC asked for, replies come back in batches matched to that NIC, with the
// kernel's arrival time between the send and the moment JavaScript saw them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Family } from '../../../src/config/types.js';
import type { ProbeReply } from '../../../src/core/types.js';
import { nsToMs } from '../../../src/daemon/clock.js';
import { IcmpProber } from '../../../src/net/icmp/prober.js';

const LO = Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8'));

/** An IPv4 echo request to ourselves over lo. */
const loopbackProbe = (seq: number) =>
  ({ ifname: 'lo', family: 4, source: '127.0.0.1', target: '127.0.0.1', seq, kind: 'uni', method: 'icmp' }) as const;

async function probeLoopback(family: Family, address: string) {
  const prober = new IcmpProber();
  const seen: Array<{ reply: ProbeReply; seenAt: number }> = [];
  let batches = 0;
  prober.onReplies((replies) => {
    batches++;
    const seenAt = nsToMs(process.hrtime.bigint());
    for (const reply of replies) seen.push({ reply, seenAt });
  });
  const ignored: string[] = [];
  prober.onIgnored((reason) => ignored.push(reason));
  prober.open('lo', LO, family);
  const keepAlive = setInterval(() => undefined, 1000); // the socket's poll handle does not hold the loop open
  try {
    for (let seq = 0; seq < 20; seq++) {
      assert.equal(
        prober.send({ ifname: 'lo', family, source: address, target: address, seq, kind: 'uni', method: 'icmp' }),
        true,
      );
      for (let i = 0; i < 100 && !seen.some((s) => s.reply.seq === seq); i++)
        await new Promise((r) => setTimeout(r, 2));
    }
    // three at once: one read finds them all
    for (let seq = 20; seq < 23; seq++)
      prober.send({ ifname: 'lo', family, source: address, target: address, seq, kind: 'uni', method: 'icmp' });
    const batchesBefore = batches;
    for (let i = 0; i < 100 && !seen.some((s) => s.reply.seq === 22); i++) await new Promise((r) => setTimeout(r, 2));
    return { seen, batchesForThree: batches - batchesBefore, ignored };
  } finally {
    clearInterval(keepAlive);
    prober.closeAll();
  }
}

for (const [family, address] of [
  [4, '127.0.0.1'],
  [6, '::1'],
] as const) {
  test(`IPv${family}: replies over lo come back matched to lo, in batches, with the kernel's arrival time`, async () => {
    const { seen, batchesForThree, ignored } = await probeLoopback(family, address);
    assert.deepEqual(
      seen.map((s) => s.reply.seq),
      Array.from({ length: 23 }, (_, i) => i),
    );
    for (const { reply, seenAt } of seen) {
      assert.equal(reply.ifname, 'lo');
      assert.equal(reply.family, family);
      assert.equal(reply.source, address);
      assert.equal(reply.kind, 'uni');
      assert.ok(reply.sentAt <= reply.receivedAt && reply.receivedAt <= seenAt, JSON.stringify({ reply, seenAt }));
    }
    // the stamp is the kernel's, earlier than JavaScript's view: that is the whole point
    assert.ok(seen.some((s) => s.reply.receivedAt < s.seenAt));
    assert.equal(batchesForThree, 1, 'three replies already queued are read in one batch');
    assert.deepEqual(ignored, []);
  });
}

test('a probe for an interface that is not open is refused; closing the last one closes the socket', () => {
  const prober = new IcmpProber();
  assert.equal(prober.send(loopbackProbe(1)), false);
  prober.open('lo', LO, 4);
  prober.close('lo', 4);
  assert.equal(prober.send(loopbackProbe(1)), false);
});

test('readPending hands over the replies already waiting, before the event loop polls the socket', () => {
  const prober = new IcmpProber();
  const seqs: number[] = [];
  prober.onReplies((replies) => seqs.push(...replies.map((r) => r.seq)));
  prober.open('lo', LO, 4);
  try {
    for (let seq = 0; seq < 3; seq++)
      prober.send({
        ifname: 'lo',
        family: 4,
        source: '127.0.0.1',
        target: '127.0.0.1',
        seq,
        kind: 'uni',
        method: 'icmp',
      });
    // no turn of the loop from here on: only readPending can deliver
    const until = Date.now() + 1000;
    while (seqs.length < 3 && Date.now() < until) prober.readPending();
    assert.deepEqual(seqs, [0, 1, 2]);
    prober.readPending(); // nothing more waits: no error, nothing delivered twice
    assert.deepEqual(seqs, [0, 1, 2]);
  } finally {
    prober.closeAll();
  }
});
