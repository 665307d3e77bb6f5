import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));

async function ipmpd(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [MAIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('check-config prints the effective config of each example and exits 0', async () => {
  for (const f of ['two-nic-group.yaml', 'sun-ipmp0-same-subnet.yaml', 'sun-ipmp0-separate-subnet.yaml']) {
    const r = await ipmpd('check-config', '--config.file', join(EXAMPLES, f));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /failure_detection_time: 10s/);
    assert.match(r.stdout, /on_all_targets_lost: rediscover/);
  }
});

test('check-config rejects a broken file with file:line:col and exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-cli-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'failure_detection_time: 10s\ngroups:\n  - name: g\n    interfaces:\n      - name: eth0\n        standbye: true\n');
  const r = await ipmpd('check-config', '--config.file', file);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:6:9: unknown key "standbye"`, 'm'));
});

test('a missing file is named', async () => {
  const r = await ipmpd('check-config', '--config.file', '/nonexistent/ipmpd.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/nonexistent\/ipmpd\.yaml:0:0: no such file/);
});

test('run without a config probes nothing and says what is missing', async () => {
  const r = await ipmpd('run');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no configuration/);
});

test('a bad listen address is refused before anything is read or touched', async () => {
  // the config file does not even exist: the flag is checked first, so this runs safely on any host
  const r = await ipmpd('run', '--web.listen-address', 'nonsense', '--config.file', '/nonexistent/ipmpd.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--web.listen-address: "nonsense" is not HOST:PORT/);
});
