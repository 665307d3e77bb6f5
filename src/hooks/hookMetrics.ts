// Counting hook runs and webhook posts, by outcome.

import { Counter, type Registry } from 'prom-client';
import type { HookConfig, WebhookConfig } from '../config/types.js';
import { webhookLabel } from './postWebhook.js';

/** `dropped`: the event never ran, because too many were waiting for that hook and group. */
const HOOK_RESULTS = ['ok', 'failed', 'timeout', 'dropped'] as const;
export type HookResult = (typeof HOOK_RESULTS)[number];

/** A hook in labels and logs: its program. */
export const hookLabel = (h: HookConfig): string => h.command[0]!;

export class HookMetrics {
  private readonly runs: Counter<'hook' | 'result'>;
  private readonly posts: Counter<'webhook' | 'result'>;
  private readonly retries: Counter<'webhook'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.runs = new Counter({
      name: 'ipmp_hook_runs_total',
      help: 'Hook commands run, by outcome (ok, failed: non-zero exit or could not start, timeout: killed, dropped: too many queued).',
      labelNames: ['hook', 'result'],
      registers,
    });
    this.posts = new Counter({
      name: 'ipmp_webhook_posts_total',
      help: 'Events POSTed to webhooks, by final outcome after retries.',
      labelNames: ['webhook', 'result'],
      registers,
    });
    this.retries = new Counter({
      name: 'ipmp_webhook_retries_total',
      help: 'Webhook attempts after a failed one.',
      labelNames: ['webhook'],
      registers,
    });
  }

  /** Every configured hook and webhook shows, at 0, before its first event. */
  declare(hooks: readonly HookConfig[], webhooks: readonly WebhookConfig[]): void {
    for (const h of hooks) for (const result of HOOK_RESULTS) this.runs.inc({ hook: hookLabel(h), result }, 0);
    for (const w of webhooks) {
      const webhook = webhookLabel(w.url);
      for (const result of HOOK_RESULTS) this.posts.inc({ webhook, result }, 0);
      this.retries.inc({ webhook }, 0);
    }
  }

  hookRun(h: HookConfig, result: HookResult): void {
    this.runs.inc({ hook: hookLabel(h), result });
  }

  webhookPosted(w: WebhookConfig, result: HookResult, attempts: number): void {
    const webhook = webhookLabel(w.url);
    this.posts.inc({ webhook, result });
    if (attempts > 1) this.retries.inc({ webhook }, attempts - 1);
  }
}
