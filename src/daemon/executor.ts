// Carries out the engine's address moves on the kernel, one group at a time:
// add on the new interface, move its subnet and default routes, delete from the
// old one, announce (gratuitous ARP / unsolicited NA, a burst now and another
// later); then the other routes that carried it follow. Make-before-break: the
// address is never on zero interfaces; it is on two only for the instant
// between add and delete.
// The moves of one decision run together (one address's steps stay in order),
// so a group with hundreds of addresses fails over in one round trip, not one
// per address.

import type { Logger } from 'pino';
import type { Cidr, DaemonConfig } from '../config/types.js';
import type { EngineAction } from '../core/types.js';
import type { EventMetrics, FailoverStage } from '../metrics/eventMetrics.js';
import { monotonicMs, monotonicToUnixSeconds } from './clock.js';
import type { Announcer, KernelOps, KernelView } from './ports.js';
import { routesToMove, subnetRoute } from './routesToFollow.js';
import { RT_TABLE_MAIN, type KernelRoute } from '../core/route.js';

export interface ExecutorResult {
  /** The move is done (or failed); `holders` is where the kernel has the address now. */
  settled(address: string, ok: boolean, holders: string[]): void;
  /** The kernel has the address on its new NIC and the first announcement went out. */
  moved?(m: Move): void;
}

const STEP_TIMEOUT_MS = 3000;
/** Thousands of routes may follow an address: their replies get longer. */
const ROUTES_TIMEOUT_MS = 30_000;

/** What the executor reads from the running configuration (it changes on reload). */
export type ExecutorSettings = Pick<DaemonConfig, 'announce' | 'followRouteProtocols'>;

type Move = Extract<EngineAction, { kind: 'move_address' }>;
type Removal = Extract<EngineAction, { kind: 'remove_address' }>;

class StageError extends Error {
  constructor(
    readonly stage: FailoverStage,
    message: string,
  ) {
    super(message);
  }
}

export class FailoverExecutor {
  private readonly queues = new Map<string, Promise<void>>();
  /** Actions submitted in the current turn of the event loop, per group: one batch. */
  private readonly batches = new Map<string, Array<Move | Removal>>();
  private readonly secondBursts = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly kernel: KernelOps,
    private readonly view: KernelView,
    private readonly announcer: Announcer,
    private readonly settings: () => ExecutorSettings,
    private readonly metrics: EventMetrics,
    private readonly log: Logger,
    private readonly result: ExecutorResult,
  ) {}

  submit(action: Move | Removal): void {
    const pending = this.batches.get(action.group);
    if (pending) {
      pending.push(action);
      return;
    }
    const batch = [action];
    this.batches.set(action.group, batch);
    const previous = this.queues.get(action.group) ?? Promise.resolve();
    // the batch closes when the engine's turn ends (a microtask later); it runs after the group's previous batch
    const next = previous.then(() => {
      this.batches.delete(action.group);
      return this.runBatch(batch);
    });
    this.queues.set(
      action.group,
      next.catch(() => undefined),
    );
  }

  /**
   * Every address of the batch at once; each address's own actions in order. The
   * batch ends when the routes that follow the moved addresses are in place too,
   * so a later batch never rewrites routes that this one is still moving.
   */
  private async runBatch(batch: Array<Move | Removal>): Promise<void> {
    const byAddress = new Map<string, Array<Move | Removal>>();
    for (const a of batch) byAddress.set(a.address.address, [...(byAddress.get(a.address.address) ?? []), a]);
    const routesDone = new Set<string>();
    const tails: Array<Promise<void>> = [];
    await Promise.all(
      [...byAddress.values()].map(async (actions) => {
        for (const a of actions) {
          if (a.kind === 'remove_address') await this.remove(a);
          else tails.push((await this.move(a, routesDone)).tail);
        }
      }),
    );
    await Promise.all(tails);
  }

  /** Resolves when every queued move has settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()]);
  }

  stop(): void {
    for (const t of this.secondBursts.values()) clearTimeout(t);
    this.secondBursts.clear();
  }

  private holders(address: string): string[] {
    return this.view.holdersOf(address);
  }

  /**
   * Moves one address: added on the new NIC, its subnet and default routes moved,
   * deleted from the old NIC, announced: then it is moved (logged, settled). The
   * other routes that followed it (static routes through its gateway: there may be
   * thousands) are the returned tail, which never delays the address itself.
   */
  private async move(m: Move, routesDone: Set<string>): Promise<{ tail: Promise<void> }> {
    const { address: cidr, from, to, group } = m;
    const log = this.log.child({ group, ip_address: cidr.address, from: from ?? '-', to, reason: m.reason });
    this.cancelSecondBurst(cidr.address);
    try {
      await this.step('address_add', () =>
        this.kernel.addAddress(to, cidr, {
          nodad: cidr.family === 6,
          noprefixroute: cidr.family === 4,
          label: labelFor(to),
        }),
      );
      // read before anything else changes: the routes that carried the address
      const { first, rest } = this.routesToFollow(cidr, from, to, routesDone);
      const moved = await this.step('route', () => this.replaceRoutes(first));
      if (from && from !== to) await this.step('address_del', () => this.kernel.deleteAddress(from, cidr));
      const { announce } = this.settings();
      const sent = await this.step(cidr.family === 4 ? 'arp' : 'na', () =>
        this.announcer.announce(to, cidr, announce.count, announce.intervalMs),
      );
      this.metrics.announcementsSent(group, to, cidr.family, sent.sent);
      const seconds = (monotonicMs() - m.decidedAt) / 1000;
      this.metrics.failoverDone(group, m.reason, seconds, monotonicToUnixSeconds(monotonicMs()));
      log.info(
        {
          event: 'address_moved',
          duration_ms: Math.round(seconds * 1e4) / 10,
          announcements: sent.sent,
          routes_moved: count(moved),
          routes_following: rest.length,
        },
        `moved ${cidr.address} ${from ? `from ${from} ` : ''}to ${to}`,
      );
      this.scheduleSecondBurst(group, to, cidr);
      this.result.moved?.(m);
      this.result.settled(cidr.address, true, this.holders(cidr.address));
      this.routesMoved(group, moved);
      return { tail: this.followingRoutes(m, rest, log) };
    } catch (err) {
      const stage = err instanceof StageError ? err.stage : 'address_add';
      this.metrics.failoverError(group, stage);
      log.error(
        { event: 'failover_error', stage, err: (err as Error).message },
        `moving ${cidr.address} to ${to} failed at ${stage}: ${(err as Error).message}`,
      );
      this.result.settled(cidr.address, false, this.holders(cidr.address));
      return { tail: Promise.resolve() };
    }
  }

  /** The tail of a move: the other routes that carried the address, all at once. */
  private async followingRoutes(m: Move, routes: KernelRoute[], log: Logger): Promise<void> {
    if (routes.length === 0) return;
    try {
      const moved = await this.step('route', () => this.replaceRoutes(routes), ROUTES_TIMEOUT_MS);
      this.routesMoved(m.group, moved);
      const seconds = (monotonicMs() - m.decidedAt) / 1000;
      log.info(
        { event: 'routes_followed', duration_ms: Math.round(seconds * 1e4) / 10, routes_moved: count(moved) },
        `${count(moved)} routes followed ${m.address.address} to ${m.to}`,
      );
    } catch (err) {
      this.metrics.failoverError(m.group, 'route');
      log.error(
        { event: 'failover_error', stage: 'route', err: (err as Error).message },
        `moving the routes of ${m.address.address} to ${m.to} failed: ${(err as Error).message}`,
      );
    }
  }

  private routesMoved(group: string, moved: Map<string, number>): void {
    for (const [protocol, n] of moved) this.metrics.routesMovedBy(group, protocol, n);
  }

  private async remove(r: Removal): Promise<void> {
    try {
      await this.step('address_del', () => this.kernel.deleteAddress(r.from, r.address));
      this.log.warn(
        { event: 'address_removed', group: r.group, ip_address: r.address.address, interface: r.from },
        `removed second copy of ${r.address.address} from ${r.from}`,
      );
    } catch (err) {
      this.metrics.failoverError(r.group, 'address_del');
      this.log.error(
        { event: 'failover_error', stage: 'address_del', err: (err as Error).message },
        `removing ${r.address.address} from ${r.from} failed: ${(err as Error).message}`,
      );
    }
  }

  /**
   * The routes that carried the address, rewritten for `to`: first the data subnet's
   * and the default routes (what most traffic needs), then the rest. A route keeps
   * its origin, metric, table and source; `done` skips routes another address of the
   * same batch already moves (addresses sharing a subnet).
   */
  private routesToFollow(
    cidr: Cidr,
    from: string | undefined,
    to: string,
    done: Set<string>,
  ): { first: KernelRoute[]; rest: KernelRoute[] } {
    const subnet = subnetRoute(cidr, to);
    const first: KernelRoute[] = [];
    const rest: KernelRoute[] = [];
    const moves = routesToMove(this.view.routes(), cidr, from, this.settings().followRouteProtocols)
      .filter((r) => r.device !== to)
      .map((r) => ({ ...r, device: to }));
    for (const r of subnet ? [subnet, ...moves] : moves) {
      const key = routeKey(r);
      if (done.has(key)) continue;
      done.add(key);
      (r === subnet || r.prefixLength === 0 ? first : rest).push(r);
    }
    return { first, rest };
  }

  /** All requests in flight at once; the count moved, by origin. */
  private async replaceRoutes(routes: readonly KernelRoute[]): Promise<Map<string, number>> {
    await Promise.all(routes.map((r) => this.kernel.replaceRoute(r)));
    const byProtocol = new Map<string, number>();
    for (const r of routes) byProtocol.set(r.protocol ?? 'static', (byProtocol.get(r.protocol ?? 'static') ?? 0) + 1);
    return byProtocol;
  }

  /** One stage, bounded in time: a kernel call or announcement that hangs must not stall the group's queue. */
  private async step<T>(stage: FailoverStage, run: () => Promise<T>, timeoutMs = STEP_TIMEOUT_MS): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([run(), deadline]);
    } catch (err) {
      throw new StageError(stage, (err as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  private scheduleSecondBurst(group: string, device: string, cidr: Cidr): void {
    const { announce } = this.settings();
    if (announce.secondBurstAfterMs <= 0) return;
    const timer = setTimeout(() => {
      this.secondBursts.delete(cidr.address);
      this.announcer
        .announce(device, cidr, announce.count, announce.intervalMs)
        .then((s) => this.metrics.announcementsSent(group, device, cidr.family, s.sent))
        .catch((err: Error) => {
          this.metrics.failoverError(group, cidr.family === 4 ? 'arp' : 'na');
          this.log.warn(
            { event: 'announce_error', group, interface: device, err: err.message },
            `second announcement of ${cidr.address} failed`,
          );
        });
    }, announce.secondBurstAfterMs);
    timer.unref();
    this.secondBursts.set(cidr.address, timer);
  }

  private cancelSecondBurst(address: string): void {
    const t = this.secondBursts.get(address);
    if (t) clearTimeout(t);
    this.secondBursts.delete(address);
  }
}

function count(byProtocol: Map<string, number>): number {
  return [...byProtocol.values()].reduce((a, b) => a + b, 0);
}

function routeKey(r: {
  family: number;
  destination?: string;
  prefixLength: number;
  table?: number;
  metric?: number;
  device?: string;
}): string {
  return `${r.family} ${r.destination ?? 'default'}/${r.prefixLength} t${r.table ?? RT_TABLE_MAIN} m${r.metric ?? 0} ${r.device ?? ''}`;
}

/** IPv4 labels must start with the device name and fit in 15 characters. */
function labelFor(device: string): string | undefined {
  const label = `${device}:ipmp`;
  return label.length <= 15 ? label : undefined;
}
