// Proof that a failover converged. After a move, the new NIC is watched for the
// first packet addressed to the moved address: its arrival is the failover's
// convergence (from the decision). While none has arrived the address is
// "inbound silent", and it is announced again, 1 s, 2 s, 4 s, ... after the
// move, within announce.until_traffic: a neighbour or switch that missed or
// dropped the announcement gets another chance. The watch starts after the
// move is done and runs beside everything else: nothing in a failover waits
// for it.

import type { Logger } from 'pino';
import type { Cidr } from '../config/types.js';
import type { EngineAction } from '../core/types.js';
import type { ConvergenceMetrics, SilentAddress } from '../metrics/convergenceMetrics.js';
import { FAILOVER_REASONS, type EventMetrics } from '../metrics/eventMetrics.js';
import { monotonicMs, monotonicToUnixSeconds } from './clock.js';
import type { Announcer, ArrivalWatcher } from './ports.js';

type Move = Extract<EngineAction, { kind: 'move_address' }>;

const FIRST_REANNOUNCE_MS = 1000;

export interface ConvergenceDeps {
  arrivals: ArrivalWatcher;
  announcer: Announcer;
  events: EventMetrics;
  metrics: ConvergenceMetrics;
  log: Logger;
  /** announce.until_traffic (ms; 0: no re-announcements). */
  untilTrafficMs: () => number;
  /** The address is settled on `device` (no move under way, the kernel has it there). */
  stillHeld: (address: string, device: string) => boolean;
  /** The first re-announcement this long after the move, then twice as long each time (default 1 s). */
  firstReannounceMs?: number;
}

interface Watch {
  group: string;
  device: string;
  cidr: Cidr;
  decidedAt: number;
  movedAt: number;
  close: () => void;
  timer: NodeJS.Timeout | undefined;
  rounds: number;
  convergedAt: number | undefined;
}

export class ConvergenceWatch {
  private readonly watches = new Map<string, Watch>();
  /** Watch failures already logged, so a lasting one is said once. */
  private readonly reported = new Set<string>();

  constructor(private readonly deps: ConvergenceDeps) {}

  /** A failover is done (the address is on `m.to`, the first announcement out): watch for its first inbound packet. */
  moved(m: Move): void {
    this.forget(m.address.address);
    if (!(FAILOVER_REASONS as readonly string[]).includes(m.reason)) return; // a first placement is no failover
    const movedAt = monotonicMs();
    const w: Watch = {
      group: m.group,
      device: m.to,
      cidr: m.address,
      decidedAt: m.decidedAt,
      movedAt,
      close: () => undefined,
      timer: undefined,
      rounds: 0,
      convergedAt: undefined,
    };
    try {
      const handle = this.deps.arrivals.watch(
        m.to,
        m.address.address,
        (at) => this.arrived(w, at),
        (err) => this.watchFailed(w, err),
      );
      w.close = () => handle.close();
    } catch (err) {
      this.watchFailed(w, (err as Error).message);
      return;
    }
    this.watches.set(m.address.address, w);
    this.schedule(w);
  }

  /** For ipmp_address_inbound_silent_seconds. */
  silent(now = monotonicMs()): SilentAddress[] {
    return [...this.watches.values()].map((w) => ({
      group: w.group,
      address: w.cidr.address,
      seconds: w.convergedAt === undefined ? (now - w.movedAt) / 1000 : 0,
    }));
  }

  /** After a reload: addresses no longer configured in their group are not watched (nor reported) any more. */
  retain(configured: ReadonlySet<string>): void {
    for (const [address, w] of [...this.watches]) if (!configured.has(`${w.group} ${address}`)) this.forget(address);
  }

  stop(): void {
    for (const address of [...this.watches.keys()]) this.forget(address);
  }

  private forget(address: string): void {
    const w = this.watches.get(address);
    if (!w) return;
    this.end(w);
    this.watches.delete(address);
  }

  private end(w: Watch): void {
    w.close();
    w.close = () => undefined;
    if (w.timer) clearTimeout(w.timer);
    w.timer = undefined;
  }

  private arrived(w: Watch, at: number): void {
    if (w.convergedAt !== undefined || this.watches.get(w.cidr.address) !== w) return;
    w.convergedAt = at;
    this.end(w);
    const seconds = (at - w.decidedAt) / 1000;
    this.deps.metrics.converged(w.group, seconds);
    this.deps.log.info(
      {
        event: 'address_converged',
        group: w.group,
        ip_address: w.cidr.address,
        interface: w.device,
        arrived_at: new Date(monotonicToUnixSeconds(at) * 1000).toISOString(),
        convergence_ms: round(at - w.decidedAt),
        after_move_ms: round(at - w.movedAt),
        reannouncements: w.rounds,
      },
      `first packet for ${w.cidr.address} arrived on ${w.device} ${round(at - w.decidedAt)} ms after the decision`,
    );
  }

  /** The next re-announcement, if it still falls within announce.until_traffic. */
  private schedule(w: Watch): void {
    const due = w.movedAt + (this.deps.firstReannounceMs ?? FIRST_REANNOUNCE_MS) * 2 ** w.rounds;
    if (due - w.movedAt > this.deps.untilTrafficMs()) {
      if (w.rounds > 0) {
        this.deps.log.warn(
          {
            event: 'address_still_silent',
            group: w.group,
            ip_address: w.cidr.address,
            interface: w.device,
            silent_ms: round(monotonicMs() - w.movedAt),
            reannouncements: w.rounds,
          },
          `no packet for ${w.cidr.address} has reached ${w.device} since it moved; re-announcing stopped (announce.until_traffic)`,
        );
      }
      return;
    }
    w.timer = setTimeout(() => this.reannounce(w), Math.max(0, due - monotonicMs()));
    w.timer.unref();
  }

  private reannounce(w: Watch): void {
    w.timer = undefined;
    if (w.convergedAt !== undefined || this.watches.get(w.cidr.address) !== w) return;
    w.rounds++;
    // never announce an address that is on its way elsewhere: that would undo the move
    if (this.deps.stillHeld(w.cidr.address, w.device)) {
      this.deps.metrics.reannounced(w.group, w.device);
      this.deps.announcer
        .announce(w.device, w.cidr, 1, 0)
        .then((s) => this.deps.events.announcementsSent(w.group, w.device, w.cidr.family, s.sent))
        .catch((err: Error) =>
          this.deps.log.warn(
            { event: 'announce_error', group: w.group, interface: w.device, err: err.message },
            `re-announcing ${w.cidr.address} failed: ${err.message}`,
          ),
        );
    }
    this.schedule(w);
  }

  private watchFailed(w: Watch, err: string): void {
    const key = `${w.device}: ${err}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.deps.log.warn(
      { event: 'convergence_watch_error', group: w.group, ip_address: w.cidr.address, interface: w.device, err },
      `cannot watch ${w.device} for packets to ${w.cidr.address}: ${err}`,
    );
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
