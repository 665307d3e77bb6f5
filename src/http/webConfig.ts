// `--web.config.file` in the Prometheus exporter-toolkit format, so the file an
// operator already uses for node_exporter works here unchanged: TLS (with
// mutual TLS), basic auth with bcrypt hashes, extra response headers.
// Parsing only; serving is in webServer.ts.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;

/** Headers the exporter-toolkit lets an operator set (it refuses others). */
const SETTABLE_HEADERS = [
  'Strict-Transport-Security',
  'X-Content-Type-Options',
  'X-Frame-Options',
  'X-XSS-Protection',
  'Content-Security-Policy',
];

const tlsVersion = z.enum(Object.keys(TLS_VERSIONS) as [TlsVersionName, ...TlsVersionName[]]);

const RawWebConfig = z
  .object({
    tls_server_config: z
      .object({
        cert_file: z.string().min(1).optional(),
        key_file: z.string().min(1).optional(),
        client_auth_type: z.enum(CLIENT_AUTH_TYPES).optional(),
        client_ca_file: z.string().min(1).optional(),
        min_version: tlsVersion.optional(),
        max_version: tlsVersion.optional(),
        // accepted so that existing files load; Node's OpenSSL defaults choose these
        cipher_suites: z.array(z.string()).optional(),
        curve_preferences: z.array(z.string()).optional(),
        prefer_server_cipher_suites: z.boolean().optional(),
      })
      .strict()
      .nullish(),
    http_server_config: z
      .object({
        http2: z.boolean().optional(),
        headers: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .nullish(),
    basic_auth_users: z.record(z.string(), z.string()).nullish(),
  })
  .strict();

export interface TlsSettings {
  certFile: string;
  keyFile: string;
  clientAuth: ClientAuthType;
  clientCaFile?: string;
  minVersion: (typeof TLS_VERSIONS)[TlsVersionName];
  maxVersion?: (typeof TLS_VERSIONS)[TlsVersionName];
}

export interface WebConfig {
  tls?: TlsSettings;
  headers: Record<string, string>;
  /** user → bcrypt hash */
  basicAuthUsers: Record<string, string>;
  /** settings accepted but not applied, for a warning */
  ignored: string[];
}

export const EMPTY_WEB_CONFIG: WebConfig = { headers: {}, basicAuthUsers: {}, ignored: [] };

class WebConfigError extends Error {
  constructor(file: string, detail: string) {
    super(`--web.config.file ${file}: ${detail}`);
    this.name = 'WebConfigError';
  }
}

/** Read and check the file; relative paths inside it are relative to the file, as in the toolkit. */
export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new WebConfigError(file, `cannot read it: ${e.code ?? e.message}`);
  }
  return parseWebConfig(text, file);
}

export function parseWebConfig(text: string, file: string): WebConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new WebConfigError(file, `not YAML: ${(err as Error).message}`);
  }
  const parsed = RawWebConfig.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new WebConfigError(file, `${where}${issue.message}`);
  }
  const raw = parsed.data;
  const base = dirname(resolve(file));
  const path = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const ignored: string[] = [];
  const config: WebConfig = { headers: {}, basicAuthUsers: {}, ignored };

  const t = raw.tls_server_config;
  if (t && (t.cert_file || t.key_file)) {
    if (!t.cert_file || !t.key_file)
      throw new WebConfigError(file, 'tls_server_config needs both cert_file and key_file');
    const clientAuth = t.client_auth_type ?? 'NoClientCert';
    const verifies = clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert';
    if (verifies && !t.client_ca_file)
      throw new WebConfigError(file, `client_auth_type ${clientAuth} needs client_ca_file`);
    if (t.client_ca_file && !verifies)
      throw new WebConfigError(
        file,
        `client_ca_file is set but client_auth_type ${clientAuth} does not verify client certificates (use VerifyClientCertIfGiven or RequireAndVerifyClientCert)`,
      );
    config.tls = {
      certFile: path(t.cert_file),
      keyFile: path(t.key_file),
      clientAuth,
      ...(t.client_ca_file ? { clientCaFile: path(t.client_ca_file) } : {}),
      minVersion: TLS_VERSIONS[t.min_version ?? 'TLS12'],
      ...(t.max_version ? { maxVersion: TLS_VERSIONS[t.max_version] } : {}),
    };
    for (const key of ['cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites'] as const)
      if (t[key] !== undefined) ignored.push(`tls_server_config.${key}`);
  } else if (t && (t.client_ca_file || t.client_auth_type)) {
    throw new WebConfigError(file, 'tls_server_config needs cert_file and key_file');
  }

  for (const [name, value] of Object.entries(raw.http_server_config?.headers ?? {})) {
    const canonical = SETTABLE_HEADERS.find((h) => h.toLowerCase() === name.toLowerCase());
    if (!canonical)
      throw new WebConfigError(
        file,
        `http_server_config.headers: ${name} cannot be set (allowed: ${SETTABLE_HEADERS.join(', ')})`,
      );
    config.headers[canonical] = value;
  }
  if (raw.http_server_config?.http2 !== undefined) ignored.push('http_server_config.http2');

  for (const [user, hash] of Object.entries(raw.basic_auth_users ?? {})) {
    if (!/^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash))
      throw new WebConfigError(
        file,
        `basic_auth_users.${user}: not a bcrypt hash (make one with \`htpasswd -nBC 10 "" | tr -d ':\\n'\`)`,
      );
    config.basicAuthUsers[user] = hash;
  }
  return config;
}
