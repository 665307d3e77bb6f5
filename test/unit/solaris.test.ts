import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../src/config/load.js';
import { importSolaris } from '../../src/solaris/convert.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/solaris/', import.meta.url));
const MAP = { hme0: 'eth0', hme1: 'eth1', qfe0: 'eth0', qfe4: 'eth1' };

test('seed A (unrealgrp1) converts to a valid config with its test and data addresses', () => {
  const r = importSolaris(join(FIXTURES, 'unrealgrp1'), MAP);
  assert.deepEqual(r.warnings, []);
  const c = parseConfigText(r.yaml, 'converted.yaml');
  assert.equal(c.failureDetectionTimeMs, 10_000);
  assert.equal(c.failback, true);
  const g = c.groups[0]!;
  assert.equal(g.name, 'unrealgrp1');
  assert.deepEqual(
    g.interfaces.map((i) => [i.name, i.testAddresses.map((t) => `${t.address}/${t.prefixLength}`)]),
    [
      ['eth0', ['198.18.11.6/24']],
      ['eth1', ['198.18.11.7/24']],
    ],
  );
  assert.deepEqual(g.dataAddresses, [
    { address: { address: '198.18.11.5', prefixLength: 24, family: 4 }, preferredInterface: 'eth0' },
  ]);
});

test("Sun ipmp0: same-subnet test addresses with the start script's targets; separate-subnet test addresses", () => {
  const same = parseConfigText(importSolaris(join(FIXTURES, 'ipmp0-same-subnet'), MAP).yaml, 'a.yaml').groups[0]!;
  assert.deepEqual(
    same.interfaces.map((i) => i.testAddresses[0]!.address),
    ['198.18.20.210', '198.18.20.220'],
  );
  assert.equal(same.dataAddresses[0]!.address.address, '198.18.20.10');
  assert.deepEqual(same.probeTargets, ['198.18.20.110', '198.18.20.120', '198.18.20.130']);
  const separate = parseConfigText(importSolaris(join(FIXTURES, 'ipmp0-separate-subnet'), MAP).yaml, 'b.yaml')
    .groups[0]!;
  assert.deepEqual(
    separate.interfaces.map((i) => i.testAddresses[0]!.address),
    ['198.19.1.210', '198.19.1.220'],
  );
  assert.equal(separate.dataAddresses[0]!.address.address, '198.18.20.10');
});

test('unknown tokens and bad tunables are warned about with file and line', () => {
  const root = mkdtempSync(join(tmpdir(), 'solaris-'));
  try {
    mkdirSync(join(root, 'etc/default'), { recursive: true });
    writeFileSync(
      join(root, 'etc/hostname.e1000g0'),
      '# comment\n198.18.0.6 netmask 255.255.255.0 group g deprecated -failover frobnicate up\naddif nosuchhost up\n',
    );
    writeFileSync(join(root, 'etc/default/mpathd'), 'FAILBACK=maybe\nFOO=1\n');
    const r = importSolaris(root);
    const msgs = r.warnings.map((w) => `${w.file.slice(root.length)}:${w.line}: ${w.message}`);
    assert.ok(msgs.includes('/etc/hostname.e1000g0:2: unknown token "frobnicate"; ignored'), msgs.join('\n'));
    assert.ok(
      msgs.some((m) => m.startsWith('/etc/hostname.e1000g0:3: "nosuchhost" is neither an address')),
      msgs.join('\n'),
    );
    assert.ok(msgs.includes('/etc/default/mpathd:1: FAILBACK=maybe must be yes or no; the default is used'));
    assert.ok(msgs.includes('/etc/default/mpathd:2: FOO is not an in.mpathd tunable; ignored'));
    assert.equal(parseConfigText(r.yaml, 'c.yaml').groups[0]!.interfaces[0]!.testAddresses[0]!.prefixLength, 24);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
