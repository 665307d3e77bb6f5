// POSTs one event's JSON to a URL, retrying a bounded number of times with a
// doubling pause: an unreachable receiver costs a few attempts, never a queue
// that grows without end.

export type PostResult = 'ok' | 'failed' | 'timeout';

export interface PostOutcome {
  result: PostResult;
  attempts: number;
  /** The last HTTP status, or the last error. */
  status?: number;
  error?: string;
}

const FIRST_PAUSE_MS = 1000;

export async function postWebhook(
  url: string,
  body: string,
  timeoutMs: number,
  retries: number,
  sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
): Promise<PostOutcome> {
  let last: PostOutcome = { result: 'failed', attempts: 0 };
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    if (attempt > 1) await sleep(FIRST_PAUSE_MS * 2 ** (attempt - 2));
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'ipmpd' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined); // free the connection
      if (res.ok) return { result: 'ok', attempts: attempt, status: res.status };
      last = { result: 'failed', attempts: attempt, status: res.status };
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return last; // the receiver refuses it: asking again will not help
    } catch (err) {
      const e = err as Error;
      last = {
        result: e.name === 'TimeoutError' ? 'timeout' : 'failed',
        attempts: attempt,
        error: e.cause instanceof Error ? e.cause.message : e.message,
      };
    }
  }
  return last;
}

/** A URL as a metric label or in a log: without credentials or query (they may hold secrets). */
export function webhookLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'invalid';
  }
}
