// /-/ready from engine snapshots: ready once every member of every named group
// has a first verdict, and never held back by the anonymous group.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EngineSnapshot, GroupView, InterfaceView } from '../../../src/core/snapshot.js';
import { everyGroupHasVerdict } from '../../../src/daemon/readiness.js';

const member = (name: string, over: Partial<InterfaceView> = {}): InterfaceView => ({
  name,
  group: 'g',
  state: 'ok',
  probeState: 'unknown',
  link: 'up',
  present: true,
  active: true,
  standby: false,
  inactive: false,
  duplicateMac: false,
  failed: false,
  lastChangeAt: 0,
  failures: { link: 0, probe: 0 },
  repairs: 0,
  instances: [],
  ...over,
});
const group = (interfaces: InterfaceView[], over: Partial<GroupView> = {}): GroupView => ({
  name: 'g',
  anonymous: false,
  state: 'ok',
  fdtMs: 10_000,
  configuredFdtMs: 10_000,
  probeIntervalMs: 1428,
  targetsUnreachable: false,
  interfaces,
  addresses: [],
  ...over,
});
const snap = (...groups: GroupView[]): EngineSnapshot => ({ at: 0, groups });

test('a probing member with no answer yet holds readiness back; an answer releases it', () => {
  const s = snap(group([member('eth0'), member('eth1')]));
  assert.equal(everyGroupHasVerdict(s, new Set(['eth0'])), false);
  assert.equal(everyGroupHasVerdict(s, new Set(['eth0', 'eth1'])), true);
});

test('link down, offline, failed and link-only members each count as a verdict', () => {
  for (const over of [
    { link: 'down' as const },
    { state: 'offline' as const },
    { state: 'failed' as const },
    { probeState: 'disabled' as const },
  ]) {
    assert.equal(everyGroupHasVerdict(snap(group([member('eth0', over)])), new Set()), true, JSON.stringify(over));
  }
});

test('every target unreachable is a verdict; the anonymous group never holds readiness back', () => {
  assert.equal(everyGroupHasVerdict(snap(group([member('eth0')], { targetsUnreachable: true })), new Set()), true);
  assert.equal(everyGroupHasVerdict(snap(group([member('eth9')], { anonymous: true })), new Set()), true);
  assert.equal(
    everyGroupHasVerdict(snap(group([member('eth9')], { anonymous: true }), group([member('eth0')])), new Set()),
    false,
  );
});
