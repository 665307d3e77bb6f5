import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SendErrorThrottle } from '../../../src/daemon/sendErrorLog.js';

test('the first send failure is logged at once, then one line per interval with the count left out', () => {
  const t = new SendErrorThrottle(60_000);
  assert.equal(t.admit(0, 'eth0', '198.18.11.1', 'EPERM'), 0);
  for (let at = 140; at < 60_000; at += 140) assert.equal(t.admit(at, 'eth0', '198.18.11.1', 'EPERM'), undefined);
  assert.equal(t.admit(60_000, 'eth0', '198.18.11.1', 'EPERM'), 428);
  assert.equal(t.admit(60_001, 'eth0', '198.18.11.1', 'EPERM'), undefined);
});

test('each interface, target and errno has its own budget', () => {
  const t = new SendErrorThrottle(60_000);
  assert.equal(t.admit(0, 'eth0', '198.18.11.1', 'EPERM'), 0);
  assert.equal(t.admit(1, 'eth1', '198.18.11.1', 'EPERM'), 0);
  assert.equal(t.admit(2, 'eth0', '198.18.11.2', 'EPERM'), 0);
  assert.equal(t.admit(3, 'eth0', '198.18.11.1', 'ENOBUFS'), 0);
  assert.equal(t.admit(4, 'eth0', '198.18.11.1', 'EPERM'), undefined);
});

test('the remembered keys stay bounded: past the limit they are forgotten, not grown', () => {
  const t = new SendErrorThrottle(60_000, 4);
  for (let i = 0; i < 4; i++) assert.equal(t.admit(i, 'eth0', `198.18.11.${i}`, 'EPERM'), 0);
  assert.equal(t.admit(10, 'eth0', '198.18.11.9', 'EPERM'), 0); // clears the table
  assert.equal(t.admit(11, 'eth0', '198.18.11.0', 'EPERM'), 0, 'forgotten, so logged again');
});
