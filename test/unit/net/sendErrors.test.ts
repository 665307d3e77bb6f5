import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendFailure } from '../../../src/net/icmp/sendErrors.js';

test("raw-socket's strerror() texts map to their errno names", () => {
  assert.deepEqual(sendFailure(new Error('Operation not permitted')), {
    errno: 'EPERM',
    message: 'Operation not permitted',
  });
  assert.equal(sendFailure(new Error('Network is unreachable')).errno, 'ENETUNREACH');
  assert.equal(sendFailure(new Error('No buffer space available')).errno, 'ENOBUFS');
});

test('an error with a known errno code keeps it; anything else is "other", never its text (the label stays bounded)', () => {
  const coded = Object.assign(new Error('send ENETDOWN'), { code: 'ENETDOWN' });
  assert.equal(sendFailure(coded).errno, 'ENETDOWN');
  const odd = Object.assign(new Error('something new'), { code: 'EWHATEVER' });
  assert.deepEqual(sendFailure(odd), { errno: 'other', message: 'something new' });
  assert.equal(sendFailure('not even an Error').errno, 'other');
});
