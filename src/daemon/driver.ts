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
  /**
   * Called when a timer fires, before the engine advances: hand the engine the replies
   * already waiting in the sockets. After a long turn of the loop (a scrape, a dump)
   * Node runs due timers before it polls the sockets, so a reply that came in time
   * would otherwise be read only after its probe had been declared lost.
   */
  beforeWake?(): void;
}

/**
 * Which outputs are actions (the shell must carry them out) and which are events
 * (reported only). Every output kind must be listed: a new kind fails to compile
 * until someone decides, instead of silently becoming an event.
 */
const ROLE = {
  send_probe: 'action',
  move_address: 'action',
  remove_address: 'action',
  interface_failed: 'event',
  interface_repaired: 'event',
  group_failed: 'event',
  group_usable: 'event',
  group_state: 'event',
  link_down: 'event',
  link_up: 'event',
  interface_vanished: 'event',
  interface_appeared: 'event',
  repair_deferred_flapping: 'event',
  fdt_raised: 'event',
  fdt_lowered: 'event',
  probes_missed: 'event',
  probing_disabled: 'event',
  target_added: 'event',
  target_removed: 'event',
  target_status: 'event',
  targets_unreachable: 'event',
  targets_reachable: 'event',
  duplicate_mac: 'event',
  offline: 'event',
  online: 'event',
  probe_acked: 'event',
  probe_lost: 'event',
  reply_ignored: 'event',
} as const satisfies Record<EngineOutput['kind'], 'action' | 'event'>;

// The table must agree with the unions too: an action kind listed as an event (or the
// reverse) makes one of these types `never`-mismatched and fails to compile.
type KindsWithRole<R> = { [K in keyof typeof ROLE]: (typeof ROLE)[K] extends R ? K : never }[keyof typeof ROLE];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const actionKindsAgree: Same<KindsWithRole<'action'>, EngineAction['kind']> = true;
const eventKindsAgree: Same<KindsWithRole<'event'>, EngineEvent['kind']> = true;
void actionKindsAgree;
void eventKindsAgree;

function isAction(o: EngineOutput): o is EngineAction {
  return ROLE[o.kind] === 'action';
}

/** Deadlines closer than this share a wake-up (ms): below the timers' own 1 ms granularity. */
const COALESCE_MS = 1;

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
      else if (isAction(o)) this.sinks.action(o);
      else this.sinks.event(o);
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
    // Deadlines less than COALESCE_MS apart are served by one wake-up, at the last of
    // them: probes of several NICs go out in one turn of the loop and their replies come
    // back in one read (a wake-up costs more than the probe's own work). A probe is sent
    // at most that much later; its RTT runs from the actual send.
    const wakeAt = this.engine.latestDeadlineWithin(deadline, deadline + COALESCE_MS);
    // Timers have whole-millisecond resolution: rounding the delay down would wake us
    // just before the deadline, to do nothing but sleep again (a wasted wake-up per probe).
    const delay = Math.ceil(Math.max(0, wakeAt - monotonicMs()));
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.sinks.beforeWake?.();
        this.input((now) => {
          this.sinks.lateness?.(now - deadline);
          this.engine.advance(now);
        });
      },
      Math.min(delay, 2 ** 31 - 1),
    );
  }
}
