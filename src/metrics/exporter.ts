// The registry ipmpd serves on /metrics: state read from the engine at scrape
// time, event-fed metrics, build info and the process/Node defaults.

import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { EngineSnapshot } from '../core/snapshot.js';
import { ConvergenceMetrics } from './convergenceMetrics.js';
import { EventMetrics } from './eventMetrics.js';
import { ExpositionBuffer } from './exposition.js';
import { renderFamilies } from './textFamilies.js';
import { StateFamilies, stateFamilyTable, type ToUnixSeconds } from './stateMetrics.js';

export interface BuildInfo {
  version: string;
  revision: string;
}

/** A rendered /metrics body: its bytes stay valid until release(), then are reused. */
export interface Scrape {
  body: Buffer;
  release(): void;
}

export class Exporter {
  /** prom-client's: process and Node.js metrics, build info */
  readonly registry = new Registry();
  /** families other modules register with prom-client (hooks), written after ipmpd's event families */
  readonly extraRegistry = new Registry();
  readonly events = new EventMetrics();
  readonly convergence = new ConvergenceMetrics();
  /** the engine-state families, rendered from one snapshot per scrape */
  private readonly state: StateFamilies;
  /** buffers free for the next scrape: one, unless a body is still being sent when the next scrape starts */
  private readonly free: ExpositionBuffer[] = [];
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
    this.state = new StateFamilies(stateFamilyTable(toUnixSeconds));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * One engine snapshot for the whole scrape, so all series agree; concurrent scrapes
   * take turns. The body is written into a buffer kept from earlier scrapes: the
   * caller sends it, then releases it.
   */
  scrape(): Promise<Scrape> {
    const run = async (): Promise<Scrape> => {
      const registryText = await this.registry.metrics();
      const extra = this.extraRegistry.getMetricsAsArray().length ? await this.extraRegistry.metrics() : '';
      const out = this.free.pop() ?? new ExpositionBuffer(1 << 20);
      out.reset();
      // the families prom-client writes and ipmpd's event families, in one registry's layout
      out.text(registryText);
      renderFamilies(out, [...this.events.families, ...this.convergence.families], true);
      if (extra) {
        out.newline();
        out.text(extra);
      }
      this.state.render(this.snapshot(), out);
      this.events.rtt.render(out);
      this.events.lateness.render(out);
      let released = false;
      return {
        body: out.view(),
        release: () => {
          if (released) return;
          released = true;
          if (this.free.length < 2) this.free.push(out);
        },
      };
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
