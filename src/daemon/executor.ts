// Carries out the engine's address moves on the kernel, one group at a time:
// add on the new interface, move the routes that carried the address, delete
// from the old one, then announce (gratuitous ARP / unsolicited NA, a burst
// now and another later). Make-before-break: the address is never on zero
// interfaces; it is on two only for the instant between add and delete.

import type { Logger } from 'pino';
import type { Cidr } from '../config/types.js';
import type { EngineAction } from '../core/types.js';
import type { EventMetrics, FailoverStage } from '../metrics/eventMetrics.js';
import { monotonicMs, monotonicToUnixSeconds } from './clock.js';
import type { Announcer, KernelOps, KernelView } from './ports.js';
import { routesToMove, subnetRoute } from './routesToFollow.js';

export interface AnnounceSettings {
  count: number;
  intervalMs: number;
  secondBurstAfterMs: number;
}

export interface ExecutorResult {
  /** The move is done (or failed); `holders` is where the kernel has the address now. */
  settled(address: string, ok: boolean, holders: string[]): void;
}

const STEP_TIMEOUT_MS = 3000;

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
  private readonly secondBursts = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly kernel: KernelOps,
    private readonly view: KernelView,
    private readonly announcer: Announcer,
    private readonly announce: AnnounceSettings,
    private readonly metrics: EventMetrics,
    private readonly log: Logger,
    private readonly result: ExecutorResult,
  ) {}

  submit(action: Move | Removal): void {
    const previous = this.queues.get(action.group) ?? Promise.resolve();
    const next = previous.then(() => (action.kind === 'move_address' ? this.move(action) : this.remove(action)));
    this.queues.set(action.group, next.catch(() => undefined));
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

  private async move(m: Move): Promise<void> {
    const { address: cidr, from, to, group } = m;
    const log = this.log.child({ group, ip_address: cidr.address, from: from ?? '-', to, reason: m.reason });
    this.cancelSecondBurst(cidr.address);
    try {
      await this.step('address_add', () => this.kernel.addAddress(to, cidr, { nodad: cidr.family === 6, noprefixroute: cidr.family === 4, label: labelFor(to) }));
      await this.step('route', () => this.moveRoutes(cidr, from, to));
      if (from && from !== to) await this.step('address_del', () => this.kernel.deleteAddress(from, cidr));
      const sent = await this.step(cidr.family === 4 ? 'arp' : 'na', () => this.announcer.announce(to, cidr, this.announce.count, this.announce.intervalMs));
      this.metrics.announcementsSent(group, to, cidr.family, sent.sent);
      const seconds = (monotonicMs() - m.decidedAt) / 1000;
      this.metrics.failoverDone(group, m.reason, seconds, monotonicToUnixSeconds(monotonicMs()));
      log.info({ event: 'address_moved', duration_ms: Math.round(seconds * 1e4) / 10, announcements: sent.sent }, `moved ${cidr.address} ${from ? `from ${from} ` : ''}to ${to}`);
      this.scheduleSecondBurst(group, to, cidr);
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

  private async moveRoutes(cidr: Cidr, from: string | undefined, to: string): Promise<void> {
    const subnet = subnetRoute(cidr, to);
    if (subnet) await this.kernel.replaceRoute(subnet);
    for (const r of routesToMove(this.view.routes(), cidr, from)) {
      if (r.device === to) continue;
      await this.kernel.replaceRoute({ ...r, device: to });
    }
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
    if (this.announce.secondBurstAfterMs <= 0) return;
    const timer = setTimeout(() => {
      this.secondBursts.delete(cidr.address);
      this.announcer
        .announce(device, cidr, this.announce.count, this.announce.intervalMs)
        .then((s) => this.metrics.announcementsSent(group, device, cidr.family, s.sent))
        .catch((err: Error) => {
          this.metrics.failoverError(group, cidr.family === 4 ? 'arp' : 'na');
          this.log.warn({ event: 'announce_error', group, interface: device, err: err.message }, `second announcement of ${cidr.address} failed`);
        });
    }, this.announce.secondBurstAfterMs);
    timer.unref();
    this.secondBursts.set(cidr.address, timer);
  }

  private cancelSecondBurst(address: string): void {
    const t = this.secondBursts.get(address);
    if (t) clearTimeout(t);
    this.secondBursts.delete(address);
  }
}

/** IPv4 labels must start with the device name and fit in 15 characters. */
function labelFor(device: string): string | undefined {
  const label = `${device}:ipmp`;
  return label.length <= 15 ? label : undefined;
}
