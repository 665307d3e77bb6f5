import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { test } from 'node:test';
import { sendFailure } from '../../../src/net/icmp/sendErrors.js';

test("sendmsg()'s errno numbers map to their names and the kernel's text", () => {
  assert.deepEqual(sendFailure(constants.errno.EPERM), { errno: 'EPERM', message: 'Operation not permitted' });
  assert.equal(sendFailure(constants.errno.ENETUNREACH).errno, 'ENETUNREACH');
  assert.equal(sendFailure(constants.errno.ENOBUFS).errno, 'ENOBUFS');
});

test('an errno outside the list is "other", never its name (the label stays bounded)', () => {
  assert.deepEqual(sendFailure(constants.errno.ENOTSOCK), { errno: 'other', message: 'ENOTSOCK (88)' });
  assert.equal(sendFailure(100000).errno, 'other');
});
