// Hands events to hooks and webhooks off the failover path. publish() only
// queues: nothing here is awaited by the engine or the executor. Each hook
// (and webhook) has one lane per group, so a group's events reach it in
// order while groups do not wait for each other; a lane starts its next run
// only once no failover is under way, so a process start never competes with
// a move. Runs are bounded by their timeout, queues by MAX_QUEUED.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DaemonConfig, HookConfig, WebhookConfig } from '../config/types.js';
import { hookEnvironment, type HookEvent } from './event.js';
import { hookLabel, HookMetrics } from './hookMetrics.js';
import { postWebhook, webhookLabel } from './postWebhook.js';
import { runCommand } from './runCommand.js';

/** Events waiting per hook and group; beyond it they are dropped (and counted). */
export const MAX_QUEUED = 256;

export interface HookDispatcherOptions {
  settings: () => Pick<DaemonConfig, 'hooks' | 'webhooks'>;
  registry: Registry;
  log: Logger;
  /** Resolves when no failover is under way. */
  quiet: () => Promise<void>;
}

interface Lane {
  queue: Array<() => Promise<void>>;
  running: boolean;
}

export class HookDispatcher {
  private readonly lanes = new Map<string, Lane>();
  private readonly active = new Set<Promise<void>>();
  private readonly metrics: HookMetrics;
  private stopped = false;

  constructor(private readonly options: HookDispatcherOptions) {
    this.metrics = new HookMetrics(options.registry);
    this.declare();
  }

  /** After a reload: new hooks show in the metrics at 0. */
  declare(): void {
    const { hooks, webhooks } = this.options.settings();
    this.metrics.declare(hooks, webhooks);
  }

  publish(e: HookEvent): void {
    if (this.stopped) return;
    const { hooks, webhooks } = this.options.settings();
    const json = `${JSON.stringify(e)}\n`;
    for (const h of hooks) {
      if (!h.events.includes(e.event)) continue;
      this.enqueue(
        `hook ${JSON.stringify(h.command)} ${e.group}`,
        () => this.runHook(h, e, json),
        () => this.dropped(hookLabel(h), e, () => this.metrics.hookRun(h, 'dropped')),
      );
    }
    for (const w of webhooks) {
      if (!w.events.includes(e.event)) continue;
      this.enqueue(
        `webhook ${w.url} ${e.group}`,
        () => this.post(w, e, json),
        () => this.dropped(webhookLabel(w.url), e, () => this.metrics.webhookPosted(w, 'dropped', 0)),
      );
    }
  }

  /** Resolves when every queued run has finished (each is bounded by its timeout). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.all([...this.active]);
  }

  /** Queued events are dropped; runs under way finish (within their timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const lane of this.lanes.values()) lane.queue.length = 0;
    await this.idle();
  }

  private enqueue(key: string, job: () => Promise<void>, drop: () => void): void {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { queue: [], running: false };
      this.lanes.set(key, lane);
    }
    if (lane.queue.length >= MAX_QUEUED) return drop();
    lane.queue.push(job);
    if (!lane.running) this.drain(key, lane);
  }

  private drain(key: string, lane: Lane): void {
    lane.running = true;
    const run = async () => {
      // let the engine's turn end first: the moves it decided are with the executor by then
      await new Promise((r) => setImmediate(r));
      for (let job = lane.queue.shift(); job; job = lane.queue.shift()) {
        await this.options.quiet();
        await job();
      }
    };
    const p = run()
      .catch((err: Error) =>
        this.options.log.error({ event: 'hook_error', error: err.message }, `hook dispatch failed: ${err.message}`),
      )
      .finally(() => {
        lane.running = false;
        this.active.delete(p);
        if (lane.queue.length > 0 && !this.stopped) this.drain(key, lane);
        else this.lanes.delete(key);
      });
    this.active.add(p);
  }

  private async runHook(h: HookConfig, e: HookEvent, json: string): Promise<void> {
    const o = await runCommand(h.command, hookEnvironment(e, process.env), json, h.timeoutMs);
    this.metrics.hookRun(h, o.result);
    const fields = {
      event: 'hook_run',
      hook: hookLabel(h),
      hook_event: e.event,
      group: e.group,
      result: o.result,
      exit_code: o.exitCode,
      signal: o.signal,
      duration_ms: Math.round(o.durationMs),
      stderr: o.stderr,
    };
    const what = `hook ${hookLabel(h)} for ${e.event} in ${e.group}`;
    if (o.result === 'ok') this.options.log.info(fields, `${what}: ok`);
    else if (o.result === 'timeout')
      this.options.log.warn(
        fields,
        `${what}: killed after ${h.timeoutMs} ms${o.stderr.length ? `; stderr: ${o.stderr.join(' | ')}` : ''}`,
      );
    else
      this.options.log.warn(
        { ...fields, ...(o.error ? { error: o.error } : {}) },
        `${what} failed: ${o.error ?? (o.signal ? `killed by ${o.signal}` : `exit status ${o.exitCode}`)}${o.stderr.length ? `; stderr: ${o.stderr.join(' | ')}` : ''}`,
      );
  }

  private async post(w: WebhookConfig, e: HookEvent, json: string): Promise<void> {
    const o = await postWebhook(w.url, json, w.timeoutMs, w.retries);
    this.metrics.webhookPosted(w, o.result, o.attempts);
    const fields = {
      event: 'webhook_post',
      webhook: webhookLabel(w.url),
      hook_event: e.event,
      group: e.group,
      result: o.result,
      attempts: o.attempts,
      status: o.status,
      ...(o.error ? { error: o.error } : {}),
    };
    const what = `webhook ${webhookLabel(w.url)} for ${e.event} in ${e.group}`;
    if (o.result === 'ok') this.options.log.info(fields, `${what}: ok`);
    else
      this.options.log.warn(
        fields,
        `${what}: ${o.result} after ${o.attempts} attempt(s)${o.status ? ` (HTTP ${o.status})` : o.error ? ` (${o.error})` : ''}`,
      );
  }

  private dropped(target: string, e: HookEvent, count: () => void): void {
    count();
    this.options.log.warn(
      { event: 'hook_dropped', hook: target, hook_event: e.event, group: e.group },
      `${target}: ${e.event} in ${e.group} dropped, ${MAX_QUEUED} events already waiting`,
    );
  }
}
