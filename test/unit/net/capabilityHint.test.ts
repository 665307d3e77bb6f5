import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilityHint } from '../../../src/net/capabilityHint.js';

test('the missing capability is named only when the kernel said EPERM', () => {
  assert.equal(capabilityHint('socket: Operation not permitted'), ' (ipmpd needs CAP_NET_RAW)');
  assert.equal(capabilityHint("the ARP probe addon is not built (run npm ci): Cannot find module 'x'"), '');
  assert.equal(capabilityHint('setsockopt IPV6_HDRINCL: Protocol not available'), '');
});
