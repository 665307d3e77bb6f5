// A real Prometheus scrapes ipmpd as it scrapes node_exporter with
// a web config file: over TLS, with a client certificate (mutual TLS) and
// basic auth. A wrong password and plain HTTP get no metrics, and a client
// without a certificate is refused.

import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { makeTestCertificates, type TestCertificates } from '../lab/testCertificates.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const PROM_PORT = 9090;
const PORT = 9740;

interface Target {
  labels: { job: string };
  health: string;
  lastError: string;
}

describe('Prometheus scrapes ipmpd over mutual TLS with basic auth', { concurrency: false }, () => {
  let lab: Lab;
  let ipmpd: IpmpdProcess;
  let prometheus: ChildProcess | undefined;
  let certs: TestCertificates;
  let dir: string;

  const prom = async (path: string) => {
    const r = await lab.exec('ipmp', ['curl', '-sf', `http://127.0.0.1:${PROM_PORT}${path}`], { allowFail: true });
    return r.code === 0 ? (JSON.parse(r.stdout) as { data: unknown }).data : undefined;
  };
  const targets = async () =>
    ((await prom('/api/v1/targets')) as { activeTargets: Target[] } | undefined)?.activeTargets ?? [];
  async function until<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await get();
      if (v !== undefined) return v;
      if (Date.now() > end)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; targets: ${JSON.stringify(await targets())}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  /** curl from inside the lab host to ipmpd's TLS port: HTTP status, or 0 when no HTTP answer came. */
  const curl = async (args: string[]) => {
    const r = await lab.exec(
      'ipmp',
      ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', ...args],
      { allowFail: true },
    );
    return { status: Number(r.stdout || '0'), code: r.code };
  };

  before(async () => {
    certs = makeTestCertificates();
    dir = mkdtempSync(join(tmpdir(), 'ipmpd-prom-tls-'));
    const webConfig = join(dir, 'web.yml');
    writeFileSync(
      webConfig,
      `tls_server_config:\n  cert_file: ${certs.serverCert}\n  key_file: ${certs.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${certs.caCert}\n  min_version: TLS12\nbasic_auth_users:\n  prometheus: ${bcrypt.hashSync('s3cret', 10)}\n`,
    );
    lab = await Lab.create(twoNicGroup());
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }), {
      port: PORT,
      args: ['--web.config.file', webConfig],
    });
    await ipmpd.waitFor('ipmpd started', (l) => l.event === 'started', 15_000);
    const tls = `    tls_config:\n      ca_file: ${certs.caCert}\n      cert_file: ${certs.clientCert}\n      key_file: ${certs.clientKey}\n`;
    const job = (name: string, scheme: string, password: string) =>
      `  - job_name: ${name}\n    scheme: ${scheme}\n${tls}    basic_auth:\n      username: prometheus\n      password: ${password}\n    static_configs:\n      - targets: ['127.0.0.1:${PORT}']\n`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n${job('ipmpd', 'https', 's3cret')}${job('wrong-password', 'https', 'wrong')}${job('plain-http', 'http', 's3cret')}`,
    );
    prometheus = lab.spawn(
      'ipmp',
      [
        'prometheus',
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${PROM_PORT}`,
      ],
      { stdio: 'ignore' },
    );
  });
  after(async () => {
    try {
      if (prometheus) await lab.stopProcess(prometheus);
      await ipmpd?.stop();
      await lab?.destroy();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
      certs?.remove();
    }
  });

  test('with the CA, its client certificate and the password, Prometheus gets the metrics', async () => {
    await until('the ipmpd job up', async () =>
      (await targets()).find((t) => t.labels.job === 'ipmpd')?.health === 'up' ? true : undefined,
    );
    const result = await until('ipmp_build_info from the TLS job', async () => {
      const r = (await prom('/api/v1/query?query=ipmp_build_info%7Bjob%3D%22ipmpd%22%7D')) as
        { result: unknown[] } | undefined;
      return r && r.result.length === 1 ? r.result : undefined;
    });
    assert.equal(result.length, 1);
  });

  test('a wrong password gets 401, in Prometheus and with curl', async () => {
    const target = await until('the wrong-password job scraped', async () =>
      (await targets()).find((t) => t.labels.job === 'wrong-password' && t.lastError !== ''),
    );
    assert.equal(target.health, 'down');
    assert.match(target.lastError, /401/);
    const withCert = ['--cacert', certs.caCert, '--cert', certs.clientCert, '--key', certs.clientKey];
    assert.equal(
      (await curl([...withCert, '-u', 'prometheus:wrong', `https://127.0.0.1:${PORT}/metrics`])).status,
      401,
    );
    assert.equal((await curl([...withCert, `https://127.0.0.1:${PORT}/metrics`])).status, 401);
    assert.equal(
      (await curl([...withCert, '-u', 'prometheus:s3cret', `https://127.0.0.1:${PORT}/metrics`])).status,
      200,
    );
  });

  test('plain HTTP to the TLS port gets no HTTP answer', async () => {
    const target = await until('the plain-http job scraped', async () =>
      (await targets()).find((t) => t.labels.job === 'plain-http' && t.lastError !== ''),
    );
    assert.equal(target.health, 'down');
    const r = await curl(['-u', 'prometheus:s3cret', `http://127.0.0.1:${PORT}/metrics`]);
    assert.equal(r.status, 0);
    assert.notEqual(r.code, 0);
  });

  test('with RequireAndVerifyClientCert a client without a certificate is refused in the handshake', async () => {
    const r = await curl(['--cacert', certs.caCert, '-u', 'prometheus:s3cret', `https://127.0.0.1:${PORT}/metrics`]);
    assert.equal(r.status, 0);
    assert.notEqual(r.code, 0);
  });
});
