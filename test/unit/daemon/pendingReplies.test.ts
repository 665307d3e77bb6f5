// A reply that came in time counts even when the event loop was busy: after a
// long turn (a scrape, a dump) Node runs due timers before it polls sockets, so
// a probe's loss deadline would be handled before its waiting reply was read.
// The driver reads the waiting replies (probes.readPending) when a timer fires,
// before the engine advances. Here the fake socket never delivers by itself, as
// a loop that never got to poll: only readPending hands the replies over.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProbeReply } from '../../../src/core/types.js';
import { monotonicMs } from '../../../src/daemon/clock.js';
import { twoNicConfig } from '../core/sim.js';
import { fakeAdapters, withDaemon } from './fakeAdapters.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timeoutsAfterProbing(withReadPending: boolean): Promise<{ timeouts: number; replies: number }> {
  const waiting: ProbeReply[] = [];
  let deliver: (replies: readonly ProbeReply[]) => void = () => {};
  const { adapters } = fakeAdapters({
    onSend: (p) => {
      const sentAt = monotonicMs();
      waiting.push({ ...p, source: p.target, sentAt, receivedAt: sentAt + 0.2 }); // the target answers
    },
    probes: {
      onReplies: (cb) => (deliver = cb),
      ...(withReadPending ? { readPending: () => deliver(waiting.splice(0)) } : {}),
    },
  });
  let counts = { timeouts: 0, replies: 0 };
  await withDaemon(
    adapters,
    (adminSocket) => twoNicConfig({ failureDetectionTimeMs: 700, adminSocket }),
    async (daemon) => {
      await sleep(1500); // 15 probe intervals of 100 ms
      const targets = daemon.engine.snapshot().groups[0]!.interfaces.flatMap((i) => i.instances[0]!.targets);
      counts = {
        timeouts: targets.reduce((n, t) => n + t.timeouts, 0),
        replies: targets.reduce((n, t) => n + t.replies, 0),
      };
    },
  );
  return counts;
}

test('replies waiting in the socket when a timer fires are read before the engine advances: none lost', async () => {
  const { timeouts, replies } = await timeoutsAfterProbing(true);
  assert.ok(replies >= 10, `only ${replies} replies`);
  assert.equal(timeouts, 0);
});

test('without that read the same replies would have been lost (what the test above guards)', async () => {
  const { timeouts, replies } = await timeoutsAfterProbing(false);
  assert.equal(replies, 0);
  assert.ok(timeouts >= 5, `only ${timeouts} timeouts`);
});
