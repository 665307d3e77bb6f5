// Hook commands and webhooks: told of the events they asked for, with the
// right fields, bounded in time, and never on the failover path.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { HookConfig, WebhookConfig } from '../../../src/config/types.js';
import { HookDispatcher, MAX_QUEUED } from '../../../src/hooks/dispatcher.js';
import { addressMoved, fromEngineEvent, hookEnvironment, type HookEvent } from '../../../src/hooks/event.js';
import { postWebhook } from '../../../src/hooks/postWebhook.js';
import { runCommand } from '../../../src/hooks/runCommand.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipmpd-hooks-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const moved: HookEvent = addressMoved(
  { group: 'unrealgrp1', address: { address: '198.18.11.5' }, from: 'eth0', to: 'eth1', reason: 'link' },
  '2026-12-02T13:00:00.000Z',
);
const silent = pino({ level: 'silent' });

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getSingleMetric(name)!.get()).values.find((v) =>
    Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return m?.value ?? 0;
}

test('a hook gets the event in its environment and the same as JSON on stdin', async () => {
  const out = join(dir, 'env.out');
  const hook = script('record.sh', `env | grep '^IPMP_' | sort > ${out}.env\ncat > ${out}.json`);
  const o = await runCommand(
    [hook],
    hookEnvironment(moved, { PATH: process.env.PATH, IPMP_STALE: 'x' }),
    `${JSON.stringify(moved)}\n`,
    5000,
  );
  assert.equal(o.result, 'ok');
  assert.deepEqual(readFileSync(`${out}.env`, 'utf8').trim().split('\n'), [
    'IPMP_ADDRESS=198.18.11.5',
    'IPMP_EVENT=address_moved',
    'IPMP_FROM=eth0',
    'IPMP_GROUP=unrealgrp1',
    'IPMP_INTERFACE=eth1',
    'IPMP_REASON=link',
    'IPMP_TIMESTAMP=2026-12-02T13:00:00.000Z',
    'IPMP_TO=eth1',
  ]);
  assert.deepEqual(JSON.parse(readFileSync(`${out}.json`, 'utf8')), {
    event: 'address_moved',
    group: 'unrealgrp1',
    interface: 'eth1',
    address: '198.18.11.5',
    from: 'eth0',
    to: 'eth1',
    reason: 'link',
    timestamp: '2026-12-02T13:00:00.000Z',
  });
});

test('engine events become interface_failed, interface_repaired and group_state with reason and state', () => {
  const ts = '2026-12-02T13:00:00.000Z';
  assert.deepEqual(
    fromEngineEvent(
      { kind: 'interface_failed', group: 'g', ifname: 'eth0', cause: 'probe', firstFailureAt: 0 },
      ts,
      () => true,
    ),
    { event: 'interface_failed', group: 'g', interface: 'eth0', reason: 'probe', state: 'failed', timestamp: ts },
  );
  assert.deepEqual(
    fromEngineEvent({ kind: 'interface_repaired', group: 'g', ifname: 'eth0' }, ts, () => false),
    { event: 'interface_repaired', group: 'g', interface: 'eth0', reason: 'link', state: 'ok', timestamp: ts },
  );
  assert.deepEqual(
    fromEngineEvent({ kind: 'group_state', group: 'g', from: 'ok', to: 'degraded' }, ts, () => true),
    { event: 'group_state', group: 'g', state: 'degraded', timestamp: ts },
  );
  assert.equal(
    fromEngineEvent({ kind: 'link_down', group: 'g', ifname: 'eth0' }, ts, () => true),
    undefined,
  );
});

test('a hook past its timeout is killed with everything it started', async () => {
  const pidFile = join(dir, 'child.pid');
  const hook = script('hang.sh', `sleep 30 &\necho $! > ${pidFile}\nwait`);
  const t0 = performance.now();
  const o = await runCommand([hook], { PATH: process.env.PATH }, '{}\n', 300);
  assert.equal(o.result, 'timeout');
  assert.equal(o.signal, 'SIGKILL');
  assert.ok(performance.now() - t0 < 2000, `took ${performance.now() - t0} ms`);
  const child = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((r) => setTimeout(r, 100));
  // gone, or a zombie waiting for whoever inherited it to reap it
  const state = existsSync(`/proc/${child}/stat`)
    ? readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]![0]
    : 'gone';
  assert.ok(state === 'gone' || state === 'Z', `the hook's own child survived the timeout (state ${state})`);
});

test('a failing hook reports its exit status and the first lines of its stderr; a missing one fails to start', async () => {
  const hook = script('fail.sh', 'echo "no API token" >&2\necho second >&2\nexit 3');
  const o = await runCommand([hook], { PATH: process.env.PATH }, '{}\n', 5000);
  assert.deepEqual([o.result, o.exitCode, o.stderr], ['failed', 3, ['no API token', 'second']]);
  const missing = await runCommand([join(dir, 'nonexistent')], {}, '{}\n', 5000);
  assert.equal(missing.result, 'failed');
  assert.match(missing.error ?? '', /ENOENT/);
});

test("dispatcher: publish never waits, a group's events run in order, outcomes are counted", async () => {
  const log = join(dir, 'order.log');
  const slow = script('slow.sh', `read line\necho "$IPMP_EVENT $IPMP_GROUP" >> ${log}\nsleep 0.2`);
  const fail = script('fails.sh', 'exit 1');
  const hang = script('hangs.sh', 'sleep 30');
  const hooks: HookConfig[] = [
    { command: [slow], events: ['address_moved', 'interface_failed', 'group_state'], timeoutMs: 5000 },
    { command: [fail], events: ['interface_failed'], timeoutMs: 5000 },
    { command: [hang], events: ['group_state'], timeoutMs: 200 },
  ];
  const registry = new Registry();
  const d = new HookDispatcher({
    settings: () => ({ hooks, webhooks: [] }),
    registry,
    log: silent,
    quiet: () => Promise.resolve(),
  });
  const ts = new Date().toISOString();
  const t0 = performance.now();
  d.publish({
    event: 'interface_failed',
    group: 'a',
    interface: 'eth0',
    reason: 'link',
    state: 'failed',
    timestamp: ts,
  });
  d.publish({ event: 'group_state', group: 'a', state: 'degraded', timestamp: ts });
  d.publish({ ...moved, group: 'a' });
  d.publish({ event: 'interface_repaired', group: 'a', interface: 'eth0', reason: 'link', state: 'ok', timestamp: ts }); // no hook wants it
  assert.ok(performance.now() - t0 < 20, `publish took ${performance.now() - t0} ms`);
  await d.idle();
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), [
    'interface_failed a',
    'group_state a',
    'address_moved a',
  ]);
  assert.equal(await counter(registry, 'ipmp_hook_runs_total', { hook: slow, result: 'ok' }), 3);
  assert.equal(await counter(registry, 'ipmp_hook_runs_total', { hook: fail, result: 'failed' }), 1);
  assert.equal(await counter(registry, 'ipmp_hook_runs_total', { hook: hang, result: 'timeout' }), 1);
  assert.equal(await counter(registry, 'ipmp_hook_runs_total', { hook: hang, result: 'ok' }), 0);
});

test('dispatcher: no run starts while a failover is under way', async () => {
  const mark = join(dir, 'started');
  const hook = script('mark.sh', `touch ${mark}`);
  let release!: () => void;
  const moving = new Promise<void>((r) => (release = r));
  const d = new HookDispatcher({
    settings: () => ({ hooks: [{ command: [hook], events: ['interface_failed'], timeoutMs: 5000 }], webhooks: [] }),
    registry: new Registry(),
    log: silent,
    quiet: () => moving,
  });
  d.publish({
    event: 'interface_failed',
    group: 'a',
    interface: 'eth0',
    reason: 'link',
    state: 'failed',
    timestamp: new Date().toISOString(),
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(existsSync(mark), false, 'the hook ran during the failover');
  release();
  await d.idle();
  assert.equal(existsSync(mark), true);
});

let server: Server;
let url: string;
const received: Array<{ body: unknown; type: string | undefined }> = [];
let failFirst = 0;
before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (failFirst > 0) {
        failFirst--;
        res.statusCode = 503;
        return res.end();
      }
      received.push({ body: JSON.parse(body) as unknown, type: req.headers['content-type'] });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ipmp`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('webhook: the receiver gets the JSON; a failing receiver is retried a bounded number of times', async () => {
  received.length = 0;
  const registry = new Registry();
  const webhooks: WebhookConfig[] = [{ url, events: ['address_moved'], timeoutMs: 2000, retries: 2 }];
  const d = new HookDispatcher({
    settings: () => ({ hooks: [], webhooks }),
    registry,
    log: silent,
    quiet: () => Promise.resolve(),
  });
  d.publish(moved);
  await d.idle();
  assert.deepEqual(received, [{ body: moved, type: 'application/json' }]);
  assert.equal(await counter(registry, 'ipmp_webhook_posts_total', { webhook: url, result: 'ok' }), 1);

  const noSleep = () => Promise.resolve();
  failFirst = 2;
  const retried = await postWebhook(url, JSON.stringify(moved), 2000, 2, noSleep);
  assert.deepEqual([retried.result, retried.attempts], ['ok', 3]);
  failFirst = 10;
  const givenUp = await postWebhook(url, JSON.stringify(moved), 2000, 2, noSleep);
  assert.deepEqual([givenUp.result, givenUp.attempts, givenUp.status], ['failed', 3, 503]);
  failFirst = 0;
  const nobody = await postWebhook('http://127.0.0.1:1/', '{}', 2000, 1, noSleep);
  assert.deepEqual([nobody.result, nobody.attempts], ['failed', 2]);
});

test('dispatcher: a lane holds at most MAX_QUEUED events; the rest are dropped and counted', async () => {
  const hook = script('noop.sh', 'exit 0');
  const hooks: HookConfig[] = [{ command: [hook], events: ['group_state'], timeoutMs: 5000 }];
  const registry = new Registry();
  let release!: () => void;
  const moving = new Promise<void>((r) => (release = r));
  const d = new HookDispatcher({
    settings: () => ({ hooks, webhooks: [] }),
    registry,
    log: silent,
    quiet: () => moving,
  });
  const e: HookEvent = { event: 'group_state', group: 'a', state: 'ok', timestamp: new Date().toISOString() };
  for (let i = 0; i < MAX_QUEUED + 10; i++) d.publish(e);
  d.publish({ ...e, group: 'b' }); // another group has its own lane
  assert.equal(await counter(registry, 'ipmp_hook_runs_total', { hook, result: 'dropped' }), 10);
  release();
  await d.idle();
  assert.equal(await counter(registry, 'ipmp_hook_runs_total', { hook, result: 'ok' }), MAX_QUEUED + 1);
});
