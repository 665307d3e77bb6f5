// The systemd notify protocol's logic: READY=1 once, when readiness first
// holds; watchdog pings at half WATCHDOG_USEC from a timer on the event loop,
// so a blocked loop sends none; STOPPING=1 at the end.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SystemdNotifier, watchdogIntervalMs } from '../../../src/daemon/systemdNotify.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the watchdog interval is half WATCHDOG_USEC, and only for our pid', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000' }, 42), 10_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '42' }, 42), 10_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '7' }, 42), undefined);
  assert.equal(watchdogIntervalMs({}, 42), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 42), undefined);
});

test('READY=1 is sent once, when every group first has a verdict; pings stop while the loop is blocked', async () => {
  const sent: Array<{ at: number; message: string }> = [];
  const n = new SystemdNotifier(
    '/run/systemd/notify',
    20,
    (_path, message) => (sent.push({ at: Date.now(), message }), 0),
    () => assert.fail('no warning expected'),
  );
  let ready = false;
  n.start(
    () => ready,
    () => '1 group(s)',
    10,
  );
  await sleep(100);
  assert.equal(sent.filter((s) => s.message.startsWith('READY=1')).length, 0, 'READY before a verdict');
  ready = true;
  await sleep(50);
  ready = false; // a later failure does not take READY back, nor send it again
  await sleep(50);
  ready = true;
  await sleep(50);
  const readies = sent.filter((s) => s.message.startsWith('READY=1'));
  assert.deepEqual(
    readies.map((s) => s.message),
    ['READY=1\nSTATUS=1 group(s)'],
  );
  // a hung event loop: no pings while it is blocked, so systemd's watchdog fires
  const pingsBefore = sent.filter((s) => s.message === 'WATCHDOG=1').length;
  assert.ok(pingsBefore >= 5, `only ${pingsBefore} pings in 250 ms at 20 ms`);
  const blockedFrom = Date.now();
  while (Date.now() - blockedFrom < 300) {
    // busy: the loop cannot run timers
  }
  const blockedUntil = Date.now();
  await sleep(60);
  const pings = sent.filter((s) => s.message === 'WATCHDOG=1');
  assert.equal(pings.filter((s) => s.at > blockedFrom && s.at < blockedUntil).length, 0);
  assert.ok(
    pings.some((s) => s.at >= blockedUntil),
    'pings resume',
  );
  n.stopping();
  const count = sent.length;
  await sleep(60);
  assert.equal(sent.at(-1)!.message, 'STOPPING=1');
  assert.equal(sent.length, count, 'no ping after STOPPING=1');
});

test('without NOTIFY_SOCKET nothing is sent; a failing socket is warned about once', async () => {
  const silent = new SystemdNotifier(
    undefined,
    10,
    () => assert.fail('sent without a socket'),
    () => undefined,
  );
  silent.start(
    () => true,
    () => '',
  );
  silent.stopping();
  const warnings: string[] = [];
  const failing = new SystemdNotifier(
    '/nonexistent/notify',
    10,
    () => 2,
    (m) => warnings.push(m),
  );
  failing.start(
    () => true,
    () => '',
  );
  await sleep(60);
  failing.stopping();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /systemd notify on \/nonexistent\/notify failed: ENOENT/);
});
