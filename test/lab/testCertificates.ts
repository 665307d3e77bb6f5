// Throw-away certificates for TLS tests, made with the openssl command line in
// a temp dir that remove() deletes: a CA, a server certificate for 127.0.0.1
// and a client certificate, both signed by the CA.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A new server certificate and key, same CA, written to `name`.crt/.key in dir. */
  issueServer(name: string, commonName: string): { cert: string; key: string };
  remove(): void;
}

export function makeTestCertificates(prefix = 'ipmpd-certs-'): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=ipmpd test CA');
    const issue = (name: string, commonName: string, extensions: string[]) => {
      openssl(
        'req',
        ...ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${commonName}`,
        ...extensions.flatMap((e) => ['-addext', e]),
      );
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-copy_extensions',
        'copy',
      );
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    };
    const server = issue('server', 'ipmpd', ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth']);
    const client = issue('client', 'prometheus', ['extendedKeyUsage=clientAuth']);
    return {
      dir,
      caCert: join(dir, 'ca.crt'),
      serverCert: server.cert,
      serverKey: server.key,
      clientCert: client.cert,
      clientKey: client.key,
      issueServer: (name, commonName) =>
        issue(name, commonName, ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth']),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
