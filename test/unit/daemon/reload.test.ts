// The daemon's reload against fake adapters: a reload the host refuses leaves
// the running engine probing (the defect was a stopped driver and a new
// engine never started); one that succeeds commits once and carries state.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import type { DaemonConfig } from '../../../src/config/types.js';
import { Daemon, type HostPreparation } from '../../../src/daemon/daemon.js';
import { twoNicConfig } from '../core/sim.js';
import { fakeAdapters } from './fakeAdapters.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withDaemon(
  prepare: (config: DaemonConfig) => Promise<HostPreparation>,
  body: (d: Daemon, sends: Array<{ at: number }>) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-daemon-reload-'));
  const config = twoNicConfig({ failureDetectionTimeMs: 700, adminSocket: join(dir, 'admin.sock') });
  const { adapters, sends } = fakeAdapters({ prepare });
  const daemon = new Daemon({
    config,
    adapters,
    log: pino({ level: 'silent' }),
    listenAddress: '127.0.0.1:0',
    build: { version: 'test', revision: 'test' },
  });
  try {
    await daemon.start();
    await body(daemon, sends);
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a reload the host refuses keeps the running engine probing', async () => {
  await withDaemon(
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
  await withDaemon(
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
