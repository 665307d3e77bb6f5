// Who hears of kernel changes. A listener that throws (a bug anywhere behind it)
// must neither keep the others from hearing nor escape: its caller may be native
// code, where an exception aborts Node. The view is right, the reaction failed:
// the listeners are told again after a backoff, with one log line per attempt
// rather than one per notification of a burst.

export type Warn = (event: string, message: string, error?: Error) => void;

export class ChangeListeners {
  private readonly listeners = new Set<() => void>();
  /** Rounds in a row in which a listener threw; the next attempt backs off with them. */
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly warn: Warn,
    /** delays of the successive attempts; the last one repeats */
    private readonly backoffMs: readonly number[],
  ) {}

  add(cb: () => void): void {
    this.listeners.add(cb);
  }

  /** Tells every listener; never throws. */
  notify(): void {
    let failed: Error | undefined;
    for (const cb of this.listeners) {
      try {
        cb();
      } catch (err) {
        failed ??= err instanceof Error ? err : new Error(String(err));
      }
    }
    if (!failed) {
      this.failures = 0;
      return;
    }
    if (this.closed || this.retry) return;
    const delay = this.backoffMs[Math.min(this.failures++, this.backoffMs.length - 1)] ?? 0;
    try {
      this.warn(
        'rtnetlink_error',
        `a listener of kernel changes failed: ${failed.message}; telling the listeners again in ${delay} ms`,
        failed,
      );
    } catch {
      // a logger that throws must not stop the retry
    }
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.notify();
    }, delay);
    this.retry.unref();
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }
}
