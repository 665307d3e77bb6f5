// The registry ipmpd serves on /metrics: state read from the engine at scrape
// time, event-fed metrics, build info and the process/Node defaults.

import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { EngineSnapshot } from '../core/snapshot.js';
import { ConvergenceMetrics } from './convergenceMetrics.js';
import { EventMetrics } from './eventMetrics.js';
import { registerStateMetrics, StateFamilies, type ToUnixSeconds } from './stateMetrics.js';

export interface BuildInfo {
  version: string;
  revision: string;
}

export class Exporter {
  readonly registry = new Registry();
  readonly events: EventMetrics;
  readonly convergence: ConvergenceMetrics;
  /** the engine-state families, rendered from one snapshot per scrape */
  private readonly state = new StateFamilies();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly snapshot: () => EngineSnapshot,
    toUnixSeconds: ToUnixSeconds,
    build: BuildInfo,
  ) {
    // the event-loop delay sampler wakes the process every `precision` ms; prom-client's
    // default 10 ms was a tenth of an idle ipmpd's CPU. ipmp_scheduler_lateness_seconds
    // measures the delay that matters (the probe timer's) exactly.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    // prom-client exports these gauges with a counter's "_total" suffix; promtool rightly
    // objects, and process_* plus nodejs_eventloop_* already say what matters
    for (const misnamed of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      this.registry.removeSingleMetric(misnamed);
    new Gauge({
      name: 'ipmp_build_info',
      help: 'ipmpd version and git revision.',
      labelNames: ['version', 'revision', 'nodeversion'],
      registers: [this.registry],
    }).set({ version: build.version, revision: build.revision, nodeversion: process.version }, 1);
    this.events = new EventMetrics(this.registry);
    this.convergence = new ConvergenceMetrics(this.registry);
    registerStateMetrics(this.state, toUnixSeconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One engine snapshot for the whole scrape, so all series agree; concurrent scrapes take turns. */
  scrape(): Promise<Buffer> {
    const run = async (): Promise<Buffer> => {
      const snapshot = this.snapshot();
      return Buffer.concat([
        Buffer.from(await this.registry.metrics()),
        this.state.render(snapshot),
        this.events.rtt.render(),
        this.events.lateness.render(),
      ]);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
