// A simulated host and network for the engine: a clock that jumps from event
// to event, links that can be cut, targets that answer (or not) after a given
// RTT, and a "kernel" that applies address moves. Deterministic per seed.

import { DEFAULT_METRICS } from '../../../src/config/metrics.js';
import type { Cidr, DaemonConfig, GroupConfig } from '../../../src/config/types.js';
import { DEFAULT_ADMIN_SOCKET } from '../../../src/config/defaults.js';
import { DEFAULT_FOLLOW_PROTOCOLS } from '../../../src/config/routeProtocols.js';
import { Engine } from '../../../src/core/engine.js';
import type { EngineOutput, LinkReport } from '../../../src/core/types.js';
import { rng } from '../../rng.js';
import type { KernelRoute } from '../../../src/core/route.js';

/** The engine's random source in tests: the shared seeded generator. */
export function seededRandom(seed: number): () => number {
  return rng(seed);
}

export function cidr(text: string): Cidr {
  const [address, len] = text.split('/');
  return { address: address!, prefixLength: Number(len), family: address!.includes(':') ? 6 : 4 };
}

/** The seed's two-NIC group, in 198.18.11.0/24. */
export function twoNicConfig(overrides: Partial<DaemonConfig> = {}, group: Partial<GroupConfig> = {}): DaemonConfig {
  return {
    failureDetectionTimeMs: 10_000,
    failback: true,
    trackInterfacesOnlyWithGroups: true,
    onAllTargetsLost: 'rediscover',
    announce: { count: 5, intervalMs: 0, secondBurstAfterMs: 5000, refreshIntervalMs: 0, untilTrafficMs: 60000 },
    fixSysctls: false,
    followRouteProtocols: [...DEFAULT_FOLLOW_PROTOCOLS],
    adminSocket: DEFAULT_ADMIN_SOCKET,
    hooks: [],
    webhooks: [],
    metrics: DEFAULT_METRICS,
    groups: [
      {
        name: 'unrealgrp1',
        interfaces: [
          { name: 'eth0', testAddresses: [cidr('198.18.11.6/24')], standby: false },
          { name: 'eth1', testAddresses: [cidr('198.18.11.7/24')], standby: false },
        ],
        dataAddresses: [{ address: cidr('198.18.11.5/24'), preferredInterface: 'eth0' }],
        probeTargets: [],
        probeMethod: 'icmp',
        ...group,
      },
    ],
    ...overrides,
  };
}

export const defaultRoute = (gateway: string): KernelRoute => ({ family: 4, prefixLength: 0, gateway });
export const hostRoute = (dst: string, gateway = dst): KernelRoute => ({
  family: 4,
  destination: dst,
  prefixLength: 32,
  gateway,
});

export interface TimedOutput {
  at: number;
  output: EngineOutput;
}

export class Sim {
  engine: Engine;
  now: number;
  readonly log: TimedOutput[] = [];
  /** Link state per interface. */
  readonly links = new Map<string, boolean>();
  /** RTT in ms for (interface, target); undefined = no answer. */
  rtt: (ifname: string, target: string) => number | undefined = () => 0.2;
  /** Hosts that answer all-hosts echo on an interface. */
  multicastResponders: (ifname: string) => string[] = () => [];
  /** Where the "kernel" has each data address. */
  readonly holders = new Map<string, string[]>();
  private pending: { at: number; deliver: () => void }[] = [];

  /** The routing table the engine was last told about. */
  routes: KernelRoute[];

  constructor(
    public config: DaemonConfig,
    opts: {
      seed?: number;
      start?: number;
      routes?: KernelRoute[];
      holders?: Record<string, string[]>;
      links?: Record<string, boolean>;
    } = {},
  ) {
    this.now = opts.start ?? 1_000_000;
    const ifnames = config.groups.flatMap((g) => g.interfaces.map((i) => i.name));
    for (const n of ifnames) this.links.set(n, opts.links?.[n] ?? true);
    for (const [a, on] of Object.entries(opts.holders ?? {})) this.holders.set(a, on);
    this.routes = opts.routes ?? [defaultRoute('198.18.11.1')];
    this.engine = new Engine({ config, now: this.now, random: seededRandom(opts.seed ?? 1) });
    this.engine.start(this.now, {
      links: ifnames.map((n) => this.linkReport(n)),
      routes: this.routes,
      addressHolders: this.holders,
    });
    this.drain();
  }

  /** What the daemon does on a reload: a new engine from the running one, started on the host as it is. */
  reload(config: DaemonConfig): void {
    const ifnames = config.groups.flatMap((g) => g.interfaces.map((i) => i.name));
    for (const n of ifnames) if (!this.links.has(n)) this.links.set(n, true);
    this.config = config;
    this.engine = new Engine({ config, now: this.now, previous: this.engine });
    this.engine.start(this.now, {
      links: ifnames.map((n) => this.linkReport(n)),
      routes: this.routes,
      addressHolders: this.holders,
    });
    this.drain();
  }

  private linkReport(ifname: string): LinkReport {
    return {
      ifname,
      present: true,
      up: this.links.get(ifname) ?? false,
      mac: `02:00:00:00:00:0${[...this.links.keys()].indexOf(ifname)}`,
    };
  }

  setLink(ifname: string, up: boolean): void {
    this.links.set(ifname, up);
    this.engine.reportLinks(this.now, [this.linkReport(ifname)]);
    this.drain();
  }

  /** Run until `until` (absolute ms). */
  runUntil(until: number): void {
    let spinsAtSameTime = 0;
    let lastNow = this.now;
    for (;;) {
      spinsAtSameTime = this.now === lastNow ? spinsAtSameTime + 1 : 0;
      lastNow = this.now;
      if (spinsAtSameTime > 10_000)
        throw new Error(`engine makes no progress at t=${this.now} (deadline ${this.engine.nextDeadline()})`);
      this.pending.sort((a, b) => a.at - b.at);
      const nextReply = this.pending[0]?.at ?? Number.POSITIVE_INFINITY;
      const next = Math.min(this.engine.nextDeadline(), nextReply);
      if (next > until) break;
      this.now = Math.max(this.now, next);
      if (nextReply <= this.now) {
        this.pending.shift()!.deliver();
      } else {
        this.engine.advance(this.now);
      }
      this.drain();
    }
    this.now = until;
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  drain(): void {
    const broken = this.engine.brokenInvariants();
    if (broken.length > 0) throw new Error(`invariants broken at t=${this.now}: ${broken.join('; ')}`);
    for (const output of this.engine.takeOutputs()) {
      this.log.push({ at: this.now, output });
      this.apply(output);
    }
  }

  private apply(o: EngineOutput): void {
    if (o.kind === 'send_probe') {
      if (!this.links.get(o.ifname)) return;
      const sentAt = this.now;
      if (o.probeKind === 'multi') {
        for (const source of this.multicastResponders(o.ifname)) {
          this.schedule(sentAt + 0.3, () =>
            this.engine.reportReply(this.now, {
              ifname: o.ifname,
              family: o.family,
              source,
              seq: o.seq,
              kind: 'multi',
              sentAt,
              receivedAt: this.now,
            }),
          );
        }
        return;
      }
      const rtt = this.rtt(o.ifname, o.target);
      if (rtt === undefined) return;
      this.schedule(sentAt + rtt, () => {
        if (!this.links.get(o.ifname)) return; // the link died while the reply was on its way
        this.engine.reportReply(this.now, {
          ifname: o.ifname,
          family: o.family,
          source: o.target,
          seq: o.seq,
          kind: o.probeKind,
          sentAt,
          receivedAt: this.now,
        });
      });
    } else if (o.kind === 'move_address') {
      const on = (this.holders.get(o.address.address) ?? []).filter((n) => n !== o.from);
      this.holders.set(o.address.address, [...new Set([...on, o.to])]);
      this.engine.moveCompleted(this.now, o.address.address);
    } else if (o.kind === 'remove_address') {
      this.holders.set(
        o.address.address,
        (this.holders.get(o.address.address) ?? []).filter((n) => n !== o.from),
      );
    }
  }

  private schedule(at: number, deliver: () => void): void {
    this.pending.push({ at, deliver });
  }

  /** Outputs of a kind, optionally since a time. */
  events<K extends EngineOutput['kind']>(
    kind: K,
    since = Number.NEGATIVE_INFINITY,
  ): Array<{ at: number; output: Extract<EngineOutput, { kind: K }> }> {
    return this.log.filter((e) => e.output.kind === kind && e.at >= since) as Array<{
      at: number;
      output: Extract<EngineOutput, { kind: K }>;
    }>;
  }

  iface(name: string) {
    return this.engine
      .snapshot()
      .groups.flatMap((g) => g.interfaces)
      .find((i) => i.name === name)!;
  }
  group(name = 'unrealgrp1') {
    return this.engine.snapshot().groups.find((g) => g.name === name)!;
  }
  holderOf(address: string): string[] {
    return this.holders.get(address) ?? [];
  }
}
