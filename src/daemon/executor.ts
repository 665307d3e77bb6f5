// Carries out the engine's address moves on the kernel, one group at a time:
// add on the new interface, move the routes that carried the address, delete
// from the old one, then announce (gratuitous ARP / unsolicited NA, a burst
// now and another later). Make-before-break: the address is never on zero
// interfaces; it is on two only for the instant between add and delete.
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

export interface ExecutorResult {
  /** The move is done (or failed); `holders` is where the kernel has the address now. */
  settled(address: string, ok: boolean, holders: string[]): void;
  /** The kernel has the address on its new NIC and the first announcement went out. */
  moved?(m: Move): void;
}

const STEP_TIMEOUT_MS = 3000;

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
    this.queues.set(action.group, next.catch(() => undefined));
  }

  /** Every address of the batch at once; each address's own actions in order. */
  private async runBatch(batch: Array<Move | Removal>): Promise<void> {
    const byAddress = new Map<string, Array<Move | Removal>>();
    for (const a of batch) byAddress.set(a.address.address, [...(byAddress.get(a.address.address) ?? []), a]);
    const routesDone = new Set<string>();
    await Promise.all(
      [...byAddress.values()].map(async (actions) => {
        for (const a of actions) await (a.kind === 'move_address' ? this.move(a, routesDone) : this.remove(a));
      }),
    );
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
    return this.view.addresses().filter((a) => a.cidr.address === address).map((a) => a.device);
  }

  private async move(m: Move, routesDone: Set<string>): Promise<void> {
    const { address: cidr, from, to, group } = m;
    const log = this.log.child({ group, ip_address: cidr.address, from: from ?? '-', to, reason: m.reason });
    this.cancelSecondBurst(cidr.address);
    try {
      await this.step('address_add', () => this.kernel.addAddress(to, cidr, { nodad: cidr.family === 6, noprefixroute: cidr.family === 4, label: labelFor(to) }));
      const routes = await this.step('route', () => this.moveRoutes(cidr, from, to, routesDone));
      for (const [protocol, n] of routes) this.metrics.routesMovedBy(group, protocol, n);
      if (from && from !== to) await this.step('address_del', () => this.kernel.deleteAddress(from, cidr));
      const { announce } = this.settings();
      const sent = await this.step(cidr.family === 4 ? 'arp' : 'na', () => this.announcer.announce(to, cidr, announce.count, announce.intervalMs));
      this.metrics.announcementsSent(group, to, cidr.family, sent.sent);
      const seconds = (monotonicMs() - m.decidedAt) / 1000;
      this.metrics.failoverDone(group, m.reason, seconds, monotonicToUnixSeconds(monotonicMs()));
      const routesMoved = [...routes.values()].reduce((a, b) => a + b, 0);
      log.info({ event: 'address_moved', duration_ms: Math.round(seconds * 1e4) / 10, announcements: sent.sent, routes_moved: routesMoved }, `moved ${cidr.address} ${from ? `from ${from} ` : ''}to ${to}`);
      this.scheduleSecondBurst(group, to, cidr);
      this.result.moved?.(m);
      this.result.settled(cidr.address, true, this.holders(cidr.address));
    } catch (err) {
      const stage = err instanceof StageError ? err.stage : 'address_add';
      this.metrics.failoverError(group, stage);
      log.error({ event: 'failover_error', stage, err: (err as Error).message }, `moving ${cidr.address} to ${to} failed at ${stage}: ${(err as Error).message}`);
      this.result.settled(cidr.address, false, this.holders(cidr.address));
    }
  }

  private async remove(r: Removal): Promise<void> {
    try {
      await this.step('address_del', () => this.kernel.deleteAddress(r.from, r.address));
      this.log.warn({ event: 'address_removed', group: r.group, ip_address: r.address.address, interface: r.from }, `removed second copy of ${r.address.address} from ${r.from}`);
    } catch (err) {
      this.metrics.failoverError(r.group, 'address_del');
      this.log.error({ event: 'failover_error', stage: 'address_del', err: (err as Error).message }, `removing ${r.address.address} from ${r.from} failed: ${(err as Error).message}`);
    }
  }

  /**
   * The routes that carried the address, onto `to`, all requests in flight at once.
   * A route keeps its origin, metric, table and source; `done` skips routes another
   * address of the same batch already moved (addresses sharing a subnet).
   */
  private async moveRoutes(cidr: Cidr, from: string | undefined, to: string, done: Set<string>): Promise<Map<string, number>> {
    const subnet = subnetRoute(cidr, to);
    const moves = routesToMove(this.view.routes(), cidr, from, this.settings().followRouteProtocols)
      .filter((r) => r.device !== to)
      .map((r) => ({ ...r, device: to }));
    const requests: Array<Promise<void>> = [];
    const byProtocol = new Map<string, number>();
    for (const r of subnet ? [subnet, ...moves] : moves) {
      const key = routeKey(r);
      if (done.has(key)) continue;
      done.add(key);
      requests.push(this.kernel.replaceRoute(r));
      const protocol = r.protocol ?? 'static';
      byProtocol.set(protocol, (byProtocol.get(protocol) ?? 0) + 1);
    }
    await Promise.all(requests);
    return byProtocol;
  }

  /** One stage, bounded in time: a kernel call or announcement that hangs must not stall the group's queue. */
  private async step<T>(stage: FailoverStage, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
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
          this.log.warn({ event: 'announce_error', group, interface: device, err: err.message }, `second announcement of ${cidr.address} failed`);
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

function routeKey(r: { family: number; destination?: string; prefixLength: number; table?: number; metric?: number; device?: string }): string {
  return `${r.family} ${r.destination ?? 'default'}/${r.prefixLength} t${r.table ?? 254} m${r.metric ?? 0} ${r.device ?? ''}`;
}

/** IPv4 labels must start with the device name and fit in 15 characters. */
function labelFor(device: string): string | undefined {
  const label = `${device}:ipmp`;
  return label.length <= 15 ? label : undefined;
}
