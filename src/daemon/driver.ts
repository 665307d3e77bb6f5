// Runs the engine on the real clock: feeds it inputs, wakes it at its next
// deadline, and hands its outputs to whoever acts on them. The only place
// where the engine meets time.

import type { Engine } from '../core/engine.js';
import type { EngineAction, EngineEvent, EngineOutput } from '../core/types.js';
import { monotonicMs } from './clock.js';

export interface OutputSinks {
  action(a: EngineAction): void;
  event(e: EngineEvent): void;
  /** How late (ms) a timer fired after the deadline it was set for: probe-timing jitter. */
  lateness?(ms: number): void;
}

const ACTIONS = new Set<EngineOutput['kind']>(['send_probe', 'move_address', 'remove_address']);

export class EngineDriver {
  private timer: NodeJS.Timeout | undefined;
  /** the deadline the pending timer is for: unchanged deadlines keep their timer */
  private armedFor = Number.NaN;
  private stopped = false;

  constructor(
    readonly engine: Engine,
    private readonly sinks: OutputSinks,
  ) {}

  /** Give the engine an input (it receives the current time), then act on what it says. */
  input(feed: (now: number) => void): void {
    if (this.stopped) return;
    feed(monotonicMs());
    this.flush();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private flush(): void {
    const probes: EngineAction[] = [];
    for (const o of this.engine.takeOutputs()) {
      if (o.kind === 'send_probe') probes.push(o);
      else if (ACTIONS.has(o.kind)) this.sinks.action(o as EngineAction);
      else this.sinks.event(o as EngineEvent);
    }
    this.reschedule();
    // Probes go last: a probe's RTT clock starts at sendto(), and any work left between
    // the send and the event loop's next poll would be read as network delay.
    for (const p of probes) this.sinks.action(p);
  }

  private reschedule(): void {
    if (this.stopped) return;
    const deadline = this.engine.nextDeadline();
    if (deadline === this.armedFor && this.timer) return; // most replies leave the next deadline as it was
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = deadline;
    if (!Number.isFinite(deadline)) return;
    // Timers have whole-millisecond resolution: rounding the delay down would wake us
    // just before the deadline, to do nothing but sleep again (a wasted wake-up per probe).
    const delay = Math.ceil(Math.max(0, deadline - monotonicMs()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.input((now) => {
        this.sinks.lateness?.(now - deadline);
        this.engine.advance(now);
      });
    }, Math.min(delay, 2 ** 31 - 1));
  }
}
