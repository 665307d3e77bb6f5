// Listeners of kernel changes: one that throws neither escapes (its caller may be
// the native code delivering a notification, where an exception aborts Node) nor
// keeps the others from hearing; they are all told again after a backoff.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeListeners } from '../../../src/net/netlink/changeListeners.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(backoffMs = [30, 60, 120]) {
  const warnings: string[] = [];
  const listeners = new ChangeListeners((_event, message) => warnings.push(message), backoffMs);
  return { listeners, warnings };
}

test('a listener that throws does not escape, and the others still hear', () => {
  const { listeners, warnings } = setup();
  let told = 0;
  listeners.add(() => {
    throw new Error('listener bug');
  });
  listeners.add(() => told++);
  assert.doesNotThrow(() => listeners.notify());
  assert.equal(told, 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /listener bug; telling the listeners again in 30 ms/);
  listeners.close();
});

test('one warning per retry round, not one per notification of a burst; retries back off', async () => {
  const { listeners, warnings } = setup();
  let calls = 0;
  listeners.add(() => {
    calls++;
    throw new Error('still broken');
  });
  for (let i = 0; i < 100; i++) listeners.notify();
  assert.equal(calls, 100);
  assert.equal(warnings.length, 1);
  const start = Date.now();
  while (warnings.length < 3 && Date.now() - start < 5000) await sleep(5); // the retries at +30 ms and +90 ms
  assert.equal(calls, 102);
  assert.deepEqual(
    warnings.map((w) => /again in (\d+) ms/.exec(w)?.[1]),
    ['30', '60', '120'],
  );
  listeners.close();
  await sleep(150);
  assert.equal(calls, 102, 'told again after close');
});

test('once every listener runs clean, the backoff starts over', async () => {
  const { listeners, warnings } = setup([20, 200]);
  let broken = true;
  let told = 0;
  listeners.add(() => {
    told++;
    if (broken) throw new Error('transient');
  });
  listeners.notify();
  broken = false;
  const start = Date.now();
  while (told < 2 && Date.now() - start < 5000) await sleep(5); // the retry at +20 ms runs clean
  assert.equal(told, 2);
  broken = true;
  listeners.notify();
  assert.match(warnings.at(-1)!, /again in 20 ms/);
  listeners.close();
});

test('a warn function that throws does not stop the retry', async () => {
  let told = 0;
  const listeners = new ChangeListeners(() => {
    throw new Error('logger broke');
  }, [10]);
  listeners.add(() => {
    told++;
    if (told === 1) throw new Error('once');
  });
  assert.doesNotThrow(() => listeners.notify());
  const start = Date.now();
  while (told < 2 && Date.now() - start < 5000) await sleep(5);
  assert.equal(told, 2);
  listeners.close();
});
