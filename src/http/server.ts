// The read-only HTTP face of ipmpd: /metrics, health, readiness, status JSON
// and a landing page. Nothing here can change state; admin actions go through
// the unix socket only.

import express, { type NextFunction, type Request, type Response } from 'express';
import type { Server } from 'node:http';
import type { Exporter } from '../metrics/exporter.js';

export interface HttpDeps {
  exporter: Exporter;
  ready: () => boolean;
  status: () => unknown;
  version: string;
}

export function createApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // read-only: anything but GET/HEAD is refused before routing
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    res.set('Allow', 'GET, HEAD').status(405).type('text/plain').send('405 method not allowed: this port is read-only; use `ipmpd offline|online` (unix socket) to change state\n');
  });

  app.get('/', (_req, res) => {
    res.type('html').send(`<!doctype html><html><head><title>ipmpd</title></head><body>
<h1>ipmpd ${escapeHtml(deps.version)}</h1><p>IP multipathing for Linux.</p>
<ul><li><a href="metrics">metrics</a></li><li><a href="api/v1/status">status (JSON)</a></li>
<li><a href="-/healthy">healthy</a></li><li><a href="-/ready">ready</a></li></ul></body></html>\n`);
  });
  app.get('/metrics', async (_req, res, next) => {
    try {
      const body = await deps.exporter.scrape();
      res.set('Content-Type', deps.exporter.contentType).send(body);
    } catch (err) {
      next(err);
    }
  });
  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('ipmpd is healthy.\n');
  });
  app.get('/-/ready', (_req, res) => {
    if (deps.ready()) res.type('text/plain').send('ipmpd is ready.\n');
    else res.status(503).type('text/plain').send('ipmpd is not ready: waiting for a first verdict on every group.\n');
  });
  app.get('/api/v1/status', (_req, res) => {
    res.json(deps.status());
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('404 not found\n');
  });
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).type('text/plain').send(`500 internal error: ${err.message}\n`);
  });
  return app;
}

/** Parse Prometheus-style `--web.listen-address` (`:9740`, `127.0.0.1:9740`, `[::1]:9740`). */
export function parseListenAddress(text: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new Error(`--web.listen-address: "${text}" is not HOST:PORT (e.g. ":9740" or "127.0.0.1:9740")`);
  const host = m[1] ?? (m[2] || undefined);
  return host ? { host, port } : { port };
}

export function listen(app: express.Express, address: string): Promise<Server> {
  const { host, port } = parseListenAddress(address);
  return new Promise((resolve, reject) => {
    const server = host ? app.listen(port, host, () => resolve(server)) : app.listen(port, () => resolve(server));
    server.once('error', reject);
    // slow or idle clients cannot hold the server
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    server.keepAliveTimeout = 5_000;
    server.maxConnections = 256;
  });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
