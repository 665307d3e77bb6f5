// --web.config.file served for real on loopback: TLS through Node's https,
// every client_auth_type, basic auth against bcrypt hashes, extra headers,
// certificates re-read from disk, --web.telemetry-path and
// --web.disable-exporter-metrics.

import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createApp } from '../../../src/http/server.js';
import { parseWebConfig, type WebConfig } from '../../../src/http/webConfig.js';
import { serveWeb, type WebServers } from '../../../src/http/webServer.js';
import { Exporter } from '../../../src/metrics/exporter.js';
import { makeTestCertificates, type TestCertificates } from '../../lab/testCertificates.js';
import { Sim, twoNicConfig } from '../core/sim.js';

const HASH = bcrypt.hashSync('s3cret', 4);

function app(web: Partial<Parameters<typeof createApp>[1]> = {}) {
  const sim = new Sim(twoNicConfig(), { seed: 1 });
  const exporter = new Exporter(
    () => sim.engine.snapshot(),
    (ms) => ms / 1000,
    { version: 't', revision: 't' },
  );
  return createApp(
    { exporter, ready: () => true, status: () => ({}), version: 't' },
    {
      config: { headers: {}, basicAuthUsers: {}, ignored: [] },
      telemetryPath: '/metrics',
      disableExporterMetrics: false,
      ...web,
    },
  );
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  subject?: string;
}

function get(
  port: number,
  path: string,
  opts: { ca?: string; cert?: string; key?: string; auth?: string; plain?: boolean; host?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = {
      host: opts.host ?? '127.0.0.1',
      port,
      path,
      agent: false as const,
      ...(opts.auth ? { auth: opts.auth } : {}),
      ...(opts.ca ? { ca: readFileSync(opts.ca) } : {}),
      ...(opts.cert ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key!) } : {}),
    };
    const req = (opts.plain ? httpRequest : httpsRequest)(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const peer =
          'getPeerCertificate' in res.socket
            ? (res.socket as import('node:tls').TLSSocket).getPeerCertificate()
            : undefined;
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body,
          ...(peer?.subject ? { subject: String(peer.subject.CN) } : {}),
        });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const portOf = (s: WebServers) => (s.servers[0]!.address() as AddressInfo).port;

describe('web config file', () => {
  test('reads the exporter-toolkit format, paths relative to the file', () => {
    const c = parseWebConfig(
      `tls_server_config:\n  cert_file: tls/server.crt\n  key_file: /etc/k.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS13\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\nhttp_server_config:\n  headers:\n    x-frame-options: deny\nbasic_auth_users:\n  alice: ${HASH}\n`,
      '/etc/ipmpd/web.yml',
    );
    assert.deepEqual(c.tls, {
      certFile: '/etc/ipmpd/tls/server.crt',
      keyFile: '/etc/k.key',
      clientAuth: 'RequireAndVerifyClientCert',
      clientCaFile: '/etc/ipmpd/ca.crt',
      minVersion: 'TLSv1.3',
    });
    assert.deepEqual(c.headers, { 'X-Frame-Options': 'deny' });
    assert.deepEqual(c.basicAuthUsers, { alice: HASH });
    assert.deepEqual(c.ignored, ['tls_server_config.cipher_suites']);
    assert.deepEqual(parseWebConfig('', '/w.yml'), { headers: {}, basicAuthUsers: {}, ignored: [] });
  });

  test('refuses what it cannot honour, naming the file and the setting', () => {
    const refuse = (text: string, message: RegExp) => assert.throws(() => parseWebConfig(text, '/w.yml'), message);
    refuse(
      'tls_server_config:\n  cert_file: a.crt\n',
      /^WebConfigError: --web.config.file \/w.yml: tls_server_config needs both cert_file and key_file$/,
    );
    refuse(
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n',
      /client_auth_type RequireAndVerifyClientCert needs client_ca_file/,
    );
    refuse(
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Whatever\n',
      /tls_server_config.client_auth_type/,
    );
    refuse('basic_auth_users:\n  bob: plaintext\n', /basic_auth_users.bob: not a bcrypt hash/);
    refuse('http_server_config:\n  headers:\n    Set-Cookie: x\n', /Set-Cookie cannot be set/);
    refuse('tls_config:\n  cert_file: a\n', /Unrecognized key.*tls_config/);
  });
});

describe('serving TLS with basic auth', () => {
  let certs: TestCertificates;
  let web: WebServers;
  before(async () => {
    certs = makeTestCertificates();
    const config: WebConfig = {
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey, clientAuth: 'NoClientCert', minVersion: 'TLSv1.2' },
      headers: { 'Strict-Transport-Security': 'max-age=31536000' },
      basicAuthUsers: { prometheus: HASH },
      ignored: [],
    };
    web = await serveWeb(
      app({ config, telemetryPath: '/ipmp/metrics', disableExporterMetrics: true }),
      ['127.0.0.1:0'],
      config,
    );
  });
  after(async () => {
    await web?.close();
    certs?.remove();
  });

  test('the right password gets the metrics at the telemetry path, with the headers, without process_*/nodejs_*', async () => {
    const r = await get(portOf(web), '/ipmp/metrics', { ca: certs.caCert, auth: 'prometheus:s3cret' });
    assert.equal(r.status, 200);
    assert.match(r.body, /^ipmp_build_info\{/m);
    assert.doesNotMatch(r.body, /^(process|nodejs)_/m);
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
    assert.equal((await get(portOf(web), '/metrics', { ca: certs.caCert, auth: 'prometheus:s3cret' })).status, 404);
  });

  test('a wrong password, an unknown user or no credentials get 401 with a challenge', async () => {
    for (const auth of ['prometheus:wrong', 'mallory:s3cret', undefined]) {
      const r = await get(portOf(web), '/ipmp/metrics', { ca: certs.caCert, ...(auth ? { auth } : {}) });
      assert.equal(r.status, 401, String(auth));
      assert.match(String(r.headers['www-authenticate']), /^Basic /);
    }
  });

  test('plain HTTP to the TLS port gets no HTTP answer', async () => {
    await assert.rejects(get(portOf(web), '/ipmp/metrics', { plain: true, auth: 'prometheus:s3cret' }));
  });

  test('a certificate replaced on disk is served to the next connection, a half-written one is not', async () => {
    assert.equal(
      (await get(portOf(web), '/-/healthy', { ca: certs.caCert, auth: 'prometheus:s3cret' })).subject,
      'ipmpd',
    );
    const renewed = certs.issueServer('renewed', 'ipmpd-renewed');
    // a new certificate with the old key: does not match, the old pair stays
    const oldCert = readFileSync(certs.serverCert);
    writeFileSync(certs.serverCert, readFileSync(renewed.cert));
    const during = await get(portOf(web), '/-/healthy', { ca: certs.caCert, auth: 'prometheus:s3cret' });
    assert.equal(during.subject, 'ipmpd');
    renameSync(renewed.key, certs.serverKey);
    const r = await get(portOf(web), '/-/healthy', { ca: certs.caCert, auth: 'prometheus:s3cret' });
    assert.equal(r.status, 200);
    assert.equal(r.subject, 'ipmpd-renewed');
    assert.notDeepEqual(oldCert, readFileSync(certs.serverCert));
  });
});

describe('client_auth_type', () => {
  let certs: TestCertificates;
  before(() => {
    certs = makeTestCertificates();
  });
  after(() => certs?.remove());

  /** Whether a TLS client with or without the client certificate gets an HTTP answer. */
  async function answers(clientAuth: NonNullable<WebConfig['tls']>['clientAuth'], withCert: boolean): Promise<boolean> {
    const config: WebConfig = {
      tls: {
        certFile: certs.serverCert,
        keyFile: certs.serverKey,
        clientAuth,
        ...(clientAuth.includes('Verify') ? { clientCaFile: certs.caCert } : {}),
        minVersion: 'TLSv1.2',
      },
      headers: {},
      basicAuthUsers: {},
      ignored: [],
    };
    const web = await serveWeb(app({ config }), ['127.0.0.1:0'], config);
    try {
      const r = await get(portOf(web), '/-/healthy', {
        ca: certs.caCert,
        ...(withCert ? { cert: certs.clientCert, key: certs.clientKey } : {}),
      });
      return r.status === 200;
    } catch {
      return false;
    } finally {
      await web.close();
    }
  }

  test('RequireAndVerifyClientCert refuses a client without a certificate and serves one with', async () => {
    assert.equal(await answers('RequireAndVerifyClientCert', false), false);
    assert.equal(await answers('RequireAndVerifyClientCert', true), true);
  });

  test('RequireAnyClientCert refuses a client without a certificate; VerifyClientCertIfGiven and NoClientCert serve it', async () => {
    assert.equal(await answers('RequireAnyClientCert', false), false);
    assert.equal(await answers('RequireAnyClientCert', true), true);
    assert.equal(await answers('VerifyClientCertIfGiven', false), true);
    assert.equal(await answers('VerifyClientCertIfGiven', true), true);
    assert.equal(await answers('NoClientCert', false), true);
  });

  test('min_version TLS13 refuses a TLS 1.2 client and serves a TLS 1.3 one', async () => {
    const config: WebConfig = {
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey, clientAuth: 'NoClientCert', minVersion: 'TLSv1.3' },
      headers: {},
      basicAuthUsers: {},
      ignored: [],
    };
    const web = await serveWeb(app({ config }), ['127.0.0.1:0'], config);
    try {
      const version = (max: 'TLSv1.2' | 'TLSv1.3') =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(
            { host: '127.0.0.1', port: portOf(web), ca: readFileSync(certs.caCert), maxVersion: max },
            () => {
              resolve(socket.getProtocol() ?? '');
              socket.end();
            },
          );
          socket.on('error', reject);
        });
      assert.equal(await version('TLSv1.3'), 'TLSv1.3');
      await assert.rejects(version('TLSv1.2'), /protocol version|alert/i);
    } finally {
      await web.close();
    }
  });

  test('a client certificate from another CA is refused when verified', async () => {
    const other = makeTestCertificates();
    try {
      const config: WebConfig = {
        tls: {
          certFile: certs.serverCert,
          keyFile: certs.serverKey,
          clientAuth: 'VerifyClientCertIfGiven',
          clientCaFile: certs.caCert,
          minVersion: 'TLSv1.2',
        },
        headers: {},
        basicAuthUsers: {},
        ignored: [],
      };
      const web = await serveWeb(app({ config }), ['127.0.0.1:0'], config);
      try {
        await assert.rejects(
          get(portOf(web), '/-/healthy', { ca: certs.caCert, cert: other.clientCert, key: other.clientKey }),
        );
      } finally {
        await web.close();
      }
    } finally {
      other.remove();
    }
  });
});

describe('listen addresses', () => {
  test('every --web.listen-address is served; one that cannot be bound closes the others and is named', async () => {
    const config: WebConfig = { headers: {}, basicAuthUsers: {}, ignored: [] };
    const web = await serveWeb(app(), ['127.0.0.1:0', '[::1]:0'], config);
    try {
      for (const s of web.servers) {
        const { address, port } = s.address() as AddressInfo;
        assert.equal((await get(port, '/-/healthy', { plain: true, host: address })).status, 200);
      }
      const taken = `127.0.0.1:${portOf(web)}`;
      await assert.rejects(
        serveWeb(app(), ['127.0.0.1:0', taken], config),
        new RegExp(`--web.listen-address ${taken}: cannot listen: EADDRINUSE`),
      );
    } finally {
      await web.close();
    }
  });
});
