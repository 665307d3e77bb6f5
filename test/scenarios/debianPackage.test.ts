// `npm run package` builds a Debian package that lintian finds no
// error in, that installs on this machine, whose /usr/bin/ipmpd runs (version,
// check-config on the shipped conffile, a real `ipmpd run` in a lab
// namespace), and whose purge leaves nothing behind.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { twoNicYaml } from './ipmpd.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const INSTALLED = [
  '/usr/lib/ipmpd',
  '/usr/bin/ipmpd',
  '/etc/ipmpd',
  '/lib/systemd/system/ipmpd.service',
  '/usr/share/ipmpd',
  '/usr/share/doc/ipmpd',
  '/usr/share/man/man1/ipmpd.1.gz',
];

async function sh(
  cmd: string,
  args: string[],
  opts: { cwd?: string; allowFail?: boolean; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(cmd, args, {
      cwd: opts.cwd,
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number | string; stdout: string; stderr: string };
    if (!opts.allowFail) throw new Error(`${cmd} ${args.join(' ')}: ${String(e.code)}\n${e.stdout}${e.stderr}`);
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const installed = async () =>
  (await sh('dpkg-query', ['-W', '-f', '${Status}', 'ipmpd'], { allowFail: true })).stdout.includes(
    'install ok installed',
  );

test(
  'npm run package: lintian-clean, installs, runs through /usr/bin/ipmpd, purges without a trace',
  { timeout: 600_000 },
  async (t) => {
    if (await installed()) return t.skip('an ipmpd package is already installed on this machine: not touching it');
    const dir = mkdtempSync(join(tmpdir(), 'ipmpd-deb-test-'));
    let lab: Lab | undefined;
    try {
      const deb = (await sh('bash', ['deploy/debian/build.sh', dir], { cwd: ROOT, timeoutMs: 300_000 })).stdout
        .trim()
        .split('\n')
        .at(-1)!;
      assert.match(deb, /ipmpd_\d+\.\d+\.\d+_\w+\.deb$/);

      // lintian leaves its ELF cache (mldbm-elf-*) in TMPDIR: the test's own dir
      const lint = await sh('env', [`TMPDIR=${dir}`, 'lintian', deb], { allowFail: true, timeoutMs: 300_000 });
      const errors = lint.stdout.split('\n').filter((l) => l.startsWith('E:'));
      assert.deepEqual(errors, [], `lintian errors:\n${errors.join('\n')}`);

      await sh('dpkg', ['-i', deb]);
      assert.ok(await installed());
      const version = await sh('/usr/bin/ipmpd', ['--version']);
      assert.match(version.stdout, /^ipmpd, version \d+\.\d+\.\d+ /);
      const check = await sh('/usr/bin/ipmpd', ['check-config', '--config.file', '/etc/ipmpd/ipmpd.yaml']);
      assert.match(check.stdout, /^groups: \[\]$/m, 'the shipped conffile defines no groups');
      assert.match(check.stderr, /defines no groups/);
      assert.match(
        (await sh('dpkg-query', ['-W', '-f', '${Conffiles}', 'ipmpd'])).stdout,
        /\/etc\/ipmpd\/ipmpd\.yaml [0-9a-f]{32}/,
      );
      const verify = await sh('systemd-analyze', ['verify', '/lib/systemd/system/ipmpd.service'], { allowFail: true });
      assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '', 'systemd-analyze verify on the installed unit');
      assert.match((await sh('man', ['-P', 'cat', 'ipmpd'], { allowFail: true })).stdout, /check-config/);

      // the installed command runs the daemon for real
      lab = await Lab.create(twoNicGroup());
      const config = join(dir, 'ipmpd.yaml');
      writeFileSync(config, `admin_socket: ${join(dir, 'admin.sock')}\n${twoNicYaml({ fdt: '1s' })}`);
      const child = lab.spawn(
        'ipmp',
        [
          '/usr/bin/ipmpd',
          'run',
          '--config.file',
          config,
          '--web.listen-address',
          '127.0.0.1:9740',
          '--status.socket',
          join(dir, 'status.sock'),
        ],
        { stdio: 'ignore' },
      );
      const end = Date.now() + 20_000;
      let ready = 0;
      while (Date.now() < end && ready !== 200) {
        await new Promise((r) => setTimeout(r, 250));
        ready = Number(
          (
            await lab.exec(
              'ipmp',
              ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9740/-/ready'],
              { allowFail: true },
            )
          ).stdout,
        );
      }
      assert.equal(ready, 200, '/usr/bin/ipmpd run never became ready');
      const stat = await lab.exec('ipmp', [
        '/usr/bin/ipmpd',
        'stat',
        '-i',
        '-P',
        '-o',
        'interface,state',
        '--status.socket',
        join(dir, 'status.sock'),
      ]);
      assert.equal(stat.stdout, 'eth0:ok\neth1:ok\n');
      assert.equal(await lab.stopProcess(child), 0);

      await sh('dpkg', ['--purge', 'ipmpd']);
      assert.equal(await installed(), false);
      for (const path of INSTALLED) assert.equal(existsSync(path), false, `${path} left after purge`);
    } finally {
      if (await installed()) await sh('dpkg', ['--purge', 'ipmpd'], { allowFail: true });
      await lab?.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
