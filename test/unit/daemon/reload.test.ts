// The daemon's reload against fake adapters: a reload the host refuses leaves
// the running engine probing (the defect was a stopped driver and a new
// engine never started); one that succeeds commits once and carries state.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonConfig } from '../../../src/config/types.js';
import { Daemon, type HostPreparation } from '../../../src/daemon/daemon.js';
import { twoNicConfig } from '../core/sim.js';
import { fakeAdapters, withDaemon } from './fakeAdapters.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withReloadingDaemon(
  prepare: (config: DaemonConfig) => Promise<HostPreparation>,
  body: (d: Daemon, sends: Array<{ at: number }>) => Promise<void>,
): Promise<void> {
  const { adapters, sends } = fakeAdapters({ prepare });
  await withDaemon(
    adapters,
    (adminSocket) => twoNicConfig({ failureDetectionTimeMs: 700, adminSocket }),
    (daemon) => body(daemon, sends),
  );
}

test('a reload the host refuses keeps the running engine probing', async () => {
  await withReloadingDaemon(
    async () => {
      throw new Error('test address: adding fe80::7/64 to eth1: Request rejected: EACCES');
    },
    async (daemon, sends) => {
      const running = daemon.engine;
      await assert.rejects(
        daemon.reload(twoNicConfig({ failureDetectionTimeMs: 700 })),
        /fe80::7\/64 to eth1: .*EACCES/,
      );
      assert.equal(daemon.engine, running, 'the engine was replaced by a failed reload');
      const t0 = Date.now();
      await sleep(500); // several probe intervals (100 ms)
      assert.ok(
        sends.filter((s) => s.at > t0).length >= 4,
        `only ${sends.filter((s) => s.at > t0).length} probes after the failed reload`,
      );
    },
  );
});

test('a reload the host accepts commits once, carries the members and goes on probing', async () => {
  const calls: string[] = [];
  await withReloadingDaemon(
    async () => ({ added: [], commit: () => calls.push('commit'), rollback: async () => void calls.push('rollback') }),
    async (daemon, sends) => {
      await sleep(300);
      const requestsBefore = daemon.engine.snapshot().groups[0]!.interfaces[0]!.instances[0]!.targets[0]!.requests;
      assert.ok(requestsBefore > 0);
      const running = daemon.engine;
      await daemon.reload(twoNicConfig({ failureDetectionTimeMs: 700 }));
      assert.notEqual(daemon.engine, running);
      assert.deepEqual(calls, ['commit']);
      assert.deepEqual([...daemon.engine.carriedInterfaces].sort(), ['eth0', 'eth1']);
      const t0 = Date.now();
      await sleep(500);
      assert.ok(sends.filter((s) => s.at > t0).length >= 4);
      assert.ok(daemon.engine.snapshot().groups[0]!.interfaces[0]!.instances[0]!.targets[0]!.requests > requestsBefore);
    },
  );
});
