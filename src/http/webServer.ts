// Listening on every --web.listen-address, plain or TLS as the web config
// says. TLS is Node's own (https/tls); certificates are re-read when their
// files change, checked at each new connection as the exporter-toolkit does,
// so a renewed certificate is served without a restart.

import { statSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { TlsSettings, WebConfig } from './webConfig.js';

export interface WebServers {
  readonly servers: ReadonlyArray<HttpServer | HttpsServer>;
  close(): Promise<void>;
}

/** Parse Prometheus-style `--web.listen-address` (`:9740`, `127.0.0.1:9740`, `[::1]:9740`). */
export function parseListenAddress(text: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new Error(`--web.listen-address: "${text}" is not HOST:PORT (e.g. ":9740" or "127.0.0.1:9740")`);
  const host = m[1] ?? (m[2] || undefined);
  return host ? { host, port } : { port };
}

/**
 * Serve `handler` on every address; if one cannot be bound, the ones already
 * bound are closed and the error names the address.
 */
export async function serveWeb(
  handler: RequestListener,
  addresses: string[],
  config: WebConfig,
  warn: (message: string) => void = () => {},
): Promise<WebServers> {
  const servers: Array<HttpServer | HttpsServer> = [];
  const closeAll = () =>
    Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  try {
    for (const address of addresses) {
      const server = config.tls ? tlsServer(handler, config.tls, warn) : createHttpServer(handler);
      // slow or idle clients cannot hold the server
      server.requestTimeout = 10_000;
      server.headersTimeout = 5_000;
      server.keepAliveTimeout = 5_000;
      server.maxConnections = 256;
      servers.push(server);
      await bind(server, address);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { servers, close: closeAll };
}

function bind(server: HttpServer | HttpsServer, address: string): Promise<void> {
  const { host, port } = parseListenAddress(address);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`--web.listen-address ${address}: cannot listen: ${err.code ?? err.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
}

function tlsServer(handler: RequestListener, tls: TlsSettings, warn: (message: string) => void): HttpsServer {
  const certs = new CertificateFiles(tls);
  const verify = tls.clientAuth === 'VerifyClientCertIfGiven' || tls.clientAuth === 'RequireAndVerifyClientCert';
  const server = createHttpsServer(
    {
      ...certs.read(), // a first read that fails stops the start, naming the file
      minVersion: tls.minVersion,
      ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
      requestCert: tls.clientAuth !== 'NoClientCert',
      rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
    },
    handler,
  );
  // before Node's own listener makes the TLS socket: the handshake uses what is on disk now
  server.prependListener('connection', () => {
    if (!certs.changed()) return;
    try {
      server.setSecureContext({
        ...certs.read(),
        minVersion: tls.minVersion,
        ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
      });
      warn(`TLS certificate files changed on disk: now serving ${tls.certFile}`);
    } catch (err) {
      // half-written renewal (key and certificate not matching yet): keep the old one, try again next time
      warn(
        `TLS certificate files changed but cannot be used yet, keeping the previous ones: ${(err as Error).message}`,
      );
    }
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const cert = socket.getPeerCertificate();
    const presented = cert !== null && Object.keys(cert).length > 0;
    if (tls.clientAuth === 'RequireAnyClientCert' && !presented) socket.destroy();
    else if (verify && presented && !socket.authorized) socket.destroy();
  });
  return server;
}

/** Throws, naming the file, if the certificate, key or CA cannot be used. */
export function checkTlsFiles(tls: TlsSettings): void {
  new CertificateFiles(tls).read();
}

/** The certificate, key and client CA files, and whether they changed since last read. */
class CertificateFiles {
  private signature = '';

  constructor(private readonly tls: TlsSettings) {}

  private files(): string[] {
    return [this.tls.certFile, this.tls.keyFile, ...(this.tls.clientCaFile ? [this.tls.clientCaFile] : [])];
  }

  private currentSignature(): string {
    return this.files()
      .map((f) => {
        try {
          const s = statSync(f);
          return `${s.ino}:${s.size}:${s.mtimeMs}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  }

  changed(): boolean {
    return this.currentSignature() !== this.signature;
  }

  read(): SecureContextOptions {
    const signature = this.currentSignature();
    const file = (what: string, path: string) => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new Error(
          `tls_server_config.${what} ${path}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
    };
    const options: SecureContextOptions = {
      cert: file('cert_file', this.tls.certFile),
      key: file('key_file', this.tls.keyFile),
      ...(this.tls.clientCaFile ? { ca: file('client_ca_file', this.tls.clientCaFile) } : {}),
    };
    try {
      createSecureContext(options); // key matches certificate, PEM parses
    } catch (err) {
      throw new Error(`tls_server_config ${this.tls.certFile} / ${this.tls.keyFile}: ${(err as Error).message}`);
    }
    this.signature = signature;
    return options;
  }
}
