import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderParsable, renderTable, rows, selectFields } from '../../src/stat/views.js';
import { cidr, Sim, twoNicConfig } from './core/sim.js';

function sampleSim(): Sim {
  const config = twoNicConfig(
    {},
    {
      interfaces: [
        { name: 'eth0', testAddresses: [cidr('198.18.11.6/24')], standby: false },
        { name: 'eth1', testAddresses: [cidr('198.18.11.7/24')], standby: false },
        { name: 'eth2', testAddresses: [], standby: true },
      ],
    },
  );
  const sim = new Sim(config, { seed: 3 });
  sim.runFor(20_000);
  sim.setLink('eth0', false);
  return sim;
}

test('ipmpstat views follow the engine: -g -i -t -a', () => {
  const sim = sampleSim();
  // before the failure the standby waits inactive, shown in parentheses
  const healthy = new Sim(sim.config, { seed: 3 });
  assert.equal(rows('group', healthy.engine.snapshot())[0]!.INTERFACES, 'eth0 eth1 (eth2)');
  assert.equal(rows('interface', healthy.engine.snapshot())[2]!.FLAGS, 'is-----');
  const s = sim.engine.snapshot();
  assert.deepEqual(rows('group', s), [
    { GROUP: 'unrealgrp1', STATE: 'degraded', FDT: '10.00s', INTERFACES: 'eth1 eth2 [eth0]' },
  ]);
  assert.deepEqual(rows('interface', s), [
    {
      INTERFACE: 'eth0',
      ACTIVE: 'no',
      GROUP: 'unrealgrp1',
      FLAGS: '-------',
      LINK: 'down',
      PROBE: 'failed',
      STATE: 'failed',
    },
    { INTERFACE: 'eth1', ACTIVE: 'yes', GROUP: 'unrealgrp1', FLAGS: '-------', LINK: 'up', PROBE: 'ok', STATE: 'ok' },
    {
      INTERFACE: 'eth2',
      ACTIVE: 'yes',
      GROUP: 'unrealgrp1',
      FLAGS: '-s-----',
      LINK: 'up',
      PROBE: 'disabled',
      STATE: 'ok',
    },
  ]);
  assert.deepEqual(rows('target', s), [
    { INTERFACE: 'eth0', MODE: 'routes', METHOD: 'icmp', TESTADDR: '198.18.11.6', TARGETS: '198.18.11.1' },
    { INTERFACE: 'eth1', MODE: 'routes', METHOD: 'icmp', TESTADDR: '198.18.11.7', TARGETS: '198.18.11.1' },
    { INTERFACE: 'eth2', MODE: 'disabled', METHOD: '--', TESTADDR: '--', TARGETS: '--' },
  ]);
  assert.deepEqual(rows('address', s), [
    { ADDRESS: '198.18.11.5', STATE: 'up', GROUP: 'unrealgrp1', INBOUND: 'eth1', OUTBOUND: 'eth1' },
  ]);
});

test('field selection, parsable and table output', () => {
  const s = sampleSim().engine.snapshot();
  const fields = selectFields('interface', 'interface,state');
  assert.equal(renderParsable(fields, rows('interface', s)), 'eth0:failed\neth1:ok\neth2:ok\n');
  assert.throws(() => selectFields('interface', 'bogus'), /unknown field "bogus".*INTERFACE,ACTIVE/);
  const table = renderTable(['INTERFACE', 'STATE'], rows('interface', s));
  assert.equal(table.split('\n')[0], 'INTERFACE  STATE');
  assert.equal(table.split('\n')[1], 'eth0       failed');
  assert.equal(renderParsable(['A'], [{ A: 'fe80::1' }]), 'fe80\\:\\:1\n');
});
