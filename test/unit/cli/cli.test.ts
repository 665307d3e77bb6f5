import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));

// every file a test writes lives here, removed at the end
const tmp = mkdtempSync(join(tmpdir(), 'ipmpd-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function ipmpd(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return command('node', MAIN, ...args);
}

async function command(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(argv[0]!, argv.slice(1), { timeout: 20_000 });
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
  const file = join(tmp, 'bad.yaml');
  writeFileSync(
    file,
    'failure_detection_time: 10s\ngroups:\n  - name: g\n    interfaces:\n      - name: eth0\n        standbye: true\n',
  );
  const r = await ipmpd('check-config', '--config.file', file);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:6:9: unknown key "standbye"`, 'm'),
  );
});

test('a config file that is missing, a directory or unreadable is named with the flag and the reason, never a raw Node error', async () => {
  const missing = await ipmpd('check-config', '--config.file', '/nonexistent/ipmpd.yaml');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'ipmpd: --config.file /nonexistent/ipmpd.yaml: no such file (ENOENT)\n');
  const run = await ipmpd('run', '--config.file', '/nonexistent/ipmpd.yaml');
  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'ipmpd: --config.file /nonexistent/ipmpd.yaml: no such file (ENOENT)\n');
  assert.equal(
    (await ipmpd('check-config', '--config.file', tmp)).stderr,
    `ipmpd: --config.file ${tmp}: is a directory, not a file\n`,
  );
  // unreadable: root reads everything, so ask as nobody
  chmodSync(tmp, 0o755);
  const secret = join(tmp, 'secret.yaml');
  writeFileSync(secret, 'groups: []\n', { mode: 0o600 });
  const denied = await command(
    'setpriv',
    '--reuid',
    'nobody',
    '--regid',
    'nogroup',
    '--clear-groups',
    'node',
    MAIN,
    'check-config',
    '--config.file',
    secret,
  );
  assert.equal(denied.code, 1);
  assert.equal(denied.stderr, `ipmpd: --config.file ${secret}: cannot read it: EACCES (permission denied)\n`);
});

test('check-config on a file without groups warns, as run does, and still exits 0', async () => {
  const empty = join(tmp, 'empty.yaml');
  writeFileSync(empty, '');
  const r = await ipmpd('check-config', '--config.file', empty);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^groups: \[\]$/m);
  assert.equal(r.stderr, `warning: ${empty} defines no groups: \`ipmpd run\` would probe nothing\n`);
});

test('import-solaris: a missing directory is named; without --interface-map the kept Solaris names are warned about', async () => {
  const missing = await ipmpd('import-solaris', '/nonexistent');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'ipmpd: import-solaris /nonexistent: no such directory (ENOENT)\n');
  const fixture = fileURLToPath(new URL('../../../../test/fixtures/solaris/ipmp0-same-subnet', import.meta.url));
  const unmapped = await ipmpd('import-solaris', fixture);
  assert.equal(unmapped.code, 0);
  assert.match(
    unmapped.stderr,
    /^warning: qfe0, qfe4 keep their Solaris names; give the Linux ones with --interface-map qfe0=eth0,qfe4=eth1$/m,
  );
  const mapped = await ipmpd('import-solaris', fixture, '--interface-map', 'qfe0=eth0,qfe4=eth1');
  assert.doesNotMatch(mapped.stderr, /Solaris names/);
  assert.match(mapped.stdout, /name: eth0/);
});

test('without a daemon, stat (every view) and offline say where they looked, and stat -p prints no header first', async () => {
  const socket = join(tmp, 'none.sock');
  for (const args of [
    ['stat', '-g', '--status.socket', socket],
    ['stat', '-p', '--status.socket', socket],
    ['offline', 'eth0', '--admin.socket', socket],
  ]) {
    const r = await ipmpd(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    assert.equal(
      r.stderr,
      `ipmpd: cannot reach ipmpd at ${socket}: is ipmpd running? (no socket there, or nothing listening)\n`,
      args.join(' '),
    );
  }
});

test('stat refuses two views at once, as ipmpstat does', async () => {
  const r = await ipmpd('stat', '-g', '-i');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ipmpd: choose one view: -g and -i cannot be combined\n');
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

test('a status socket path that cannot be used ends the start with exit 1, naming --status.socket, and removes the admin socket', async () => {
  const dir = mkdtempSync(join(tmp, 'run-'));
  const config = join(dir, 'ipmpd.yaml');
  writeFileSync(config, `admin_socket: ${join(dir, 'admin.sock')}\ngroups: []\n`);
  const taken = join(dir, 'status.sock');
  writeFileSync(taken, 'a file, not a socket');
  const r = await ipmpd(
    'run',
    '--config.file',
    config,
    '--status.socket',
    taken,
    '--web.listen-address',
    '127.0.0.1:0',
    '--log.format',
    'json',
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /"event":"status_socket_error".*--status.socket .*status\.sock: exists and is not a socket/);
  assert.doesNotMatch(r.stderr, /"event":"started"/);
  assert.equal(existsSync(join(dir, 'admin.sock')), false);
});
