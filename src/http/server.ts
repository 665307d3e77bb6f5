// The read-only HTTP face of ipmpd: /metrics, health, readiness, status JSON
// and a landing page. Nothing here can change state; admin actions go through
// the unix socket only.

import express, { type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import type { Exporter } from '../metrics/exporter.js';
import { basicAuth } from './basicAuth.js';
import { EMPTY_WEB_CONFIG, type WebConfig } from './webConfig.js';

export { parseListenAddress } from './webServer.js';

export interface HttpDeps {
  exporter: Exporter;
  ready: () => boolean;
  status: () => unknown;
  version: string;
}

/** The exporter flags: where and how the HTTP face is served. */
export interface WebOptions {
  listenAddresses: string[];
  config: WebConfig;
  telemetryPath: string;
  disableExporterMetrics: boolean;
}

export const defaultWebOptions = (listenAddress: string): WebOptions => ({
  listenAddresses: [listenAddress],
  config: EMPTY_WEB_CONFIG,
  telemetryPath: '/metrics',
  disableExporterMetrics: false,
});

export function createApp(
  deps: HttpDeps,
  web: Omit<WebOptions, 'listenAddresses'> = defaultWebOptions(':0'),
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (web.disableExporterMetrics) dropExporterMetrics(deps.exporter.registry);

  const headers = web.config.headers;
  if (Object.keys(headers).length) {
    app.use((_req: Request, res: Response, next: NextFunction) => {
      res.set(headers);
      next();
    });
  }
  // every path, health checks included, as the exporter-toolkit does
  if (Object.keys(web.config.basicAuthUsers).length) app.use(basicAuth(web.config.basicAuthUsers));

  // read-only: anything but GET/HEAD is refused before routing
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    res
      .set('Allow', 'GET, HEAD')
      .status(405)
      .type('text/plain')
      .send(
        '405 method not allowed: this port is read-only; use `ipmpd offline|online` (unix socket) to change state\n',
      );
  });

  app.get('/', (_req, res) => {
    res.type('html').send(`<!doctype html><html><head><title>ipmpd</title></head><body>
<h1>ipmpd ${escapeHtml(deps.version)}</h1><p>IP multipathing for Linux.</p>
<ul><li><a href="${escapeHtml(web.telemetryPath.replace(/^\//, ''))}">metrics</a></li><li><a href="api/v1/status">status (JSON)</a></li>
<li><a href="-/healthy">healthy</a></li><li><a href="-/ready">ready</a></li></ul></body></html>\n`);
  });
  app.get(web.telemetryPath, async (_req, res, next) => {
    try {
      const scrape = await deps.exporter.scrape();
      // the body's bytes are reused by a later scrape once they are sent (or the client left)
      res.once('close', scrape.release);
      res.set('Content-Type', deps.exporter.contentType).send(scrape.body);
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

/**
 * --web.disable-exporter-metrics: only ipmp_* families, as node_exporter drops
 * its go_* and process_* ones.
 */
function dropExporterMetrics(registry: Registry): void {
  for (const { name } of registry.getMetricsAsArray())
    if (name.startsWith('process_') || name.startsWith('nodejs_')) registry.removeSingleMetric(name);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
