// announce.refresh_interval, as keepalived's garp_master_refresh: every held
// data address is announced again periodically (one packet each), so a
// neighbour that missed or dropped the announcement after a move, or learnt a
// stale entry since, is put right within one interval. Off by default. The
// refresh waits while a failover is under way and never delays one.

import type { Logger } from 'pino';
import type { Cidr } from '../config/types.js';
import type { EngineSnapshot } from '../core/snapshot.js';
import type { EventMetrics } from '../metrics/eventMetrics.js';
import type { Announcer, KernelView } from './ports.js';

export interface HeldAddress {
  group: string;
  device: string;
  cidr: Cidr;
}

/** Data addresses settled on their holder, as the engine believes and the kernel confirms. */
export function heldAddresses(s: EngineSnapshot, view: KernelView): HeldAddress[] {
  return s.groups.flatMap((g) =>
    g.addresses.flatMap((a) =>
      a.holder !== undefined && a.up && !a.moving && view.holdersOf(a.address.address).includes(a.holder)
        ? [{ group: g.name, device: a.holder, cidr: a.address }]
        : [],
    ),
  );
}

export interface RefresherDeps {
  announcer: Announcer;
  metrics: EventMetrics;
  log: Logger;
  held: () => HeldAddress[];
  /** Resolves when no failover is under way. */
  quiet: () => Promise<void>;
}

export class AnnounceRefresher {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** Failures already logged (address and error), so a lasting one is said once. */
  private readonly reported = new Set<string>();

  constructor(private readonly deps: RefresherDeps) {}

  /** (Re)start at this interval; 0 stops. */
  set(intervalMs: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.busy) return; // the previous refresh is still out: skip, do not pile up
    this.busy = true;
    this.refresh()
      .catch((err: Error) =>
        this.deps.log.warn(
          { event: 'announce_refresh_error', err: err.message },
          `announcement refresh failed: ${err.message}`,
        ),
      )
      .finally(() => {
        this.busy = false;
      });
  }

  private async refresh(): Promise<void> {
    await this.deps.quiet();
    await Promise.all(
      this.deps.held().map(async (h) => {
        const key = `${h.cidr.address} on ${h.device}`;
        try {
          const { sent } = await this.deps.announcer.announce(h.device, h.cidr, 1, 0);
          this.deps.metrics.announcementsSent(h.group, h.device, h.cidr.family, sent);
          for (const r of this.reported) if (r.startsWith(`${key}:`)) this.reported.delete(r);
        } catch (err) {
          const message = (err as Error).message;
          if (this.reported.has(`${key}: ${message}`)) return;
          this.reported.add(`${key}: ${message}`);
          this.deps.log.warn(
            {
              event: 'announce_refresh_error',
              group: h.group,
              interface: h.device,
              ip_address: h.cidr.address,
              err: message,
            },
            `refreshing the announcement of ${key} failed: ${message}`,
          );
        }
      }),
    );
  }
}
