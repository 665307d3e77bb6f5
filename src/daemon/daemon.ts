// The daemon: config in, engine plus adapters wired, HTTP and admin socket up.
// Everything with side effects lives here or below src/net.

import type { Server as NetServer } from 'node:net';
import type { Logger } from 'pino';
import type { DaemonConfig, Family, ProbeMethod } from '../config/types.js';
import { Engine } from '../core/engine.js';
import type { EngineAction, EngineEvent, ProbeReply } from '../core/types.js';
import { createApp, defaultWebOptions, type WebOptions } from '../http/server.js';
import { statusJson } from '../http/statusJson.js';
import { serveWeb, type WebServers } from '../http/webServer.js';
import { Exporter, type BuildInfo } from '../metrics/exporter.js';
import { bindAdminSocket, type AdminSocket } from '../admin/server.js';
import { monotonicMs, monotonicToUnixSeconds } from './clock.js';
import { EngineDriver } from './driver.js';
import { logEvent } from './eventLog.js';
import { FailoverExecutor } from './executor.js';
import { addressHolders, linkReports, localAddresses } from './hostView.js';
import { ANONYMOUS_GROUP } from '../core/anonymous.js';
import { anonymousMembers, socketsFor } from './anonymousGroup.js';
import type { Announcer, ArrivalWatcher, KernelOps, KernelView } from './ports.js';
import { everyGroupHasVerdict } from './readiness.js';
import type { IgnoredReason } from '../metrics/eventMetrics.js';
import { ProbeLog } from './probeLog.js';
import { SendErrorThrottle } from './sendErrorLog.js';
import { HookDispatcher } from '../hooks/dispatcher.js';
import { AnnounceRefresher, heldAddresses } from './announceRefresh.js';
import { addressMoved, fromEngineEvent } from '../hooks/event.js';
import { ConvergenceWatch } from './convergence.js';
import type { ConvergenceMetrics } from '../metrics/convergenceMetrics.js';

type Move = Extract<EngineAction, { kind: 'move_address' }>;

/** A probe as the daemon asks the adapter to send it. */
export interface ProbeSend {
  ifname: string;
  family: Family;
  /** ICMP echo from the test address, or an ARP request from 0.0.0.0. */
  method: ProbeMethod;
  source: string;
  target: string;
  seq: number;
  kind: 'uni' | 'rtt' | 'multi';
}

/** What the daemon needs from Linux (src/net implements it; see linuxAdapters.ts). */
export interface Adapters {
  kernel: KernelOps;
  view: KernelView;
  announcer: Announcer;
  /** Watches a moved address's new NIC for its first inbound packet (absent: convergence is not watched). */
  arrivals?: ArrivalWatcher;
  /** Called whenever links, addresses or routes changed (coalesced by the adapter). */
  onKernelChange(cb: () => void): void;
  probes: {
    send(p: ProbeSend): boolean;
    /** Every reply one read of the socket found, in arrival order: the engine takes them in one turn. */
    onReplies(cb: (replies: readonly ProbeReply[]) => void): void;
    /** Read the replies already waiting now (to onReplies), not at the loop's next poll. */
    readPending?(): void;
    onIgnored(cb: (reason: IgnoredReason) => void): void;
    /** The kernel refused a probe that send() had accepted (sendto() failed); errno is a name from a fixed list. */
    onSendError(cb: (p: ProbeSend, failure: { errno: string; message: string }) => void): void;
    /** Keep probe sockets for these NICs too (the anonymous group's), beside the configured members'. */
    keepOpen?(extra: Array<{ name: string; families: Family[] }>): void;
  };
  /** Make sure each test address exists (adding the missing ones); returns what was added. */
  ensureTestAddresses(config: DaemonConfig): Promise<string[]>;
  /**
   * Ready the host for a new configuration beside the running one: its missing
   * test addresses, probe sockets for its new members. Nothing the running
   * configuration uses is touched. On failure it undoes what it did and throws,
   * saying what failed (address, interface, errno).
   */
  prepare(config: DaemonConfig): Promise<HostPreparation>;
  close(): Promise<void>;
}

export interface HostPreparation {
  /** Test addresses the attempt added ("198.18.11.8/24 on eth1"). */
  added: string[];
  /** The new configuration runs: let go of what only the old one used. */
  commit(): void;
  /** The new configuration will not run: remove what the attempt added. */
  rollback(): Promise<void>;
}

export interface DaemonOptions {
  config: DaemonConfig;
  adapters: Adapters;
  log: Logger;
  listenAddress: string;
  /** The exporter flags (listen addresses, TLS/auth, telemetry path); default: plain HTTP on listenAddress. */
  web?: WebOptions;
  build: BuildInfo;
  /** Re-read the configuration file and apply it (admin socket `reload`, SIGHUP). */
  onReloadRequest?: () => Promise<{ ok: true } | { ok: false; error: string }>;
  /** The admin socket, bound by the caller before anything touched the host. */
  adminSocket?: AdminSocket;
}

export class Daemon {
  engine: Engine;
  readonly exporter: Exporter;
  private driver: EngineDriver;
  private readonly executor: FailoverExecutor;
  private readonly hooks: HookDispatcher;
  private readonly refresher: AnnounceRefresher;
  private readonly convergence: ConvergenceWatch | undefined;
  /** Moves whose convergence watch opens once the failover's batch is done. */
  private readonly toWatch: Move[] = [];
  private readonly convergenceMetrics: ConvergenceMetrics;
  private anonymousSockets = '[]';
  private config: DaemonConfig;
  private readonly answered = new Set<string>();
  readonly probeLog = new ProbeLog(256);
  private restoring = false;
  private readonly sendErrorLog = new SendErrorThrottle();
  private http: WebServers | undefined;
  private admin: NetServer | undefined;

  private readPendingFailed = false;

  constructor(private readonly options: DaemonOptions) {
    const { config, adapters, log } = options;
    this.config = config;
    this.engine = new Engine({ config, now: monotonicMs() });
    this.exporter = new Exporter(() => this.engine.snapshot(), monotonicToUnixSeconds, options.build);
    this.convergenceMetrics = this.exporter.convergence;
    this.convergenceMetrics.silentFrom(() => this.convergence?.silent() ?? []);
    this.declareGroups(config);
    this.executor = new FailoverExecutor(
      adapters.kernel,
      adapters.view,
      adapters.announcer,
      () => this.config,
      this.exporter.events,
      log,
      {
        settled: (address, ok, holders) =>
          this.driver.input((now) => {
            if (ok) this.engine.moveCompleted(now, address);
            else this.engine.moveFailed(now, address, holders);
          }),
        moved: (m) => {
          this.watchWhenIdle(m);
          this.hooks.publish(addressMoved(m, new Date().toISOString()));
        },
      },
    );
    const held = (address: string, device: string) =>
      heldAddresses(this.engine.snapshot(), adapters.view).some(
        (h) => h.cidr.address === address && h.device === device,
      );
    this.convergence = adapters.arrivals
      ? new ConvergenceWatch({
          arrivals: adapters.arrivals,
          announcer: adapters.announcer,
          events: this.exporter.events,
          metrics: this.convergenceMetrics,
          log,
          untilTrafficMs: () => this.config.announce.untilTrafficMs,
          stillHeld: held,
        })
      : undefined;
    this.hooks = new HookDispatcher({
      settings: () => this.config,
      registry: this.exporter.extraRegistry,
      log,
      quiet: () => this.executor.idle(),
    });
    this.refresher = new AnnounceRefresher({
      announcer: adapters.announcer,
      metrics: this.exporter.events,
      log,
      held: () => heldAddresses(this.engine.snapshot(), adapters.view),
      quiet: () => this.executor.idle(),
    });
    this.driver = this.newDriver();
  }

  private declareGroups(config: DaemonConfig): void {
    const rtt = this.exporter.events.rtt;
    rtt.configure(config.metrics.rttHistogram);
    // the anonymous group's members come and go with the kernel's NICs: theirs are left alone
    rtt.retain(
      (group, device) =>
        group === ANONYMOUS_GROUP ||
        config.groups.some((g) => g.name === group && g.interfaces.some((i) => i.name === device)),
    );
    for (const g of config.groups) {
      this.exporter.events.declareGroup(
        g.name,
        g.interfaces.map((i) => i.name),
      );
      this.convergenceMetrics.declareGroup(
        g.name,
        g.interfaces.map((i) => i.name),
      );
    }
  }

  private newDriver(): EngineDriver {
    return new EngineDriver(this.engine, {
      action: (a) => this.act(a),
      event: (e) => this.observe(e),
      lateness: (ms) => this.exporter.events.timerLateness(ms / 1000),
      beforeWake: () => this.readWaitingReplies(),
    });
  }

  /** The engine's first look at the host (also after a reload: addresses stay where they are). */
  private async adopt(): Promise<void> {
    const { adapters, log } = this.options;
    for (const added of await adapters.ensureTestAddresses(this.config))
      log.info({ event: 'test_address_added', address: added }, `added missing test address ${added}`);
    this.startEngine();
  }

  private startEngine(): void {
    const { adapters } = this.options;
    this.driver.input((now) => {
      this.refreshAnonymous(now);
      this.engine.start(now, {
        links: linkReports(adapters.view, this.ifnames()),
        routes: adapters.view.gatewayRoutes(),
        localAddresses: localAddresses(adapters.view),
        addressHolders: addressHolders(adapters.view, this.config),
      });
    });
  }

  private ifnames(): string[] {
    return [
      ...this.config.groups.flatMap((g) => g.interfaces.map((i) => i.name)),
      ...this.engine.anonymousMembers().map((m) => m.name),
    ];
  }

  /** NICs in no group, as the kernel shows them now: the engine's anonymous group and its sockets follow (before any probe goes out). */
  private refreshAnonymous(now: number): void {
    this.engine.setAnonymousMembers(now, anonymousMembers(this.options.adapters.view, this.config));
    const sockets = socketsFor(this.engine.anonymousMembers());
    const key = JSON.stringify(sockets);
    if (key === this.anonymousSockets) return; // most kernel changes are routes: nothing to reopen
    this.anonymousSockets = key;
    this.options.adapters.probes.keepOpen?.(sockets);
  }

  /**
   * Apply a new configuration, all or nothing. The host is readied first,
   * while the running engine keeps probing and failing over; only when that
   * succeeded does a new engine take over, carrying the state of whatever did
   * not change, and adopt the host as it is (addresses stay put). On failure
   * the attempt's changes are undone, the running engine never stopped, and
   * the error says what failed. An invalid file is refused before this runs.
   */
  async reload(config: DaemonConfig): Promise<void> {
    const { adapters, log } = this.options;
    const host = await adapters.prepare(config); // throws, having undone its changes
    try {
      await this.executor.idle(); // moves under way finish where the old engine sent them
      const engine = new Engine({
        config,
        now: monotonicMs(),
        previous: this.engine,
        anonymous: anonymousMembers(adapters.view, config),
      });
      // nothing below can fail: the old engine has handed its members over
      this.driver.stop();
      this.engine = engine;
      this.config = config;
      this.driver = this.newDriver();
    } catch (err) {
      await host.rollback().catch((undo: Error) => {
        throw new Error(`${(err as Error).message}; ${undo.message}`);
      });
      throw err;
    }
    host.commit();
    for (const name of this.answered) if (!this.engine.carriedInterfaces.has(name)) this.answered.delete(name);
    for (const added of host.added)
      log.info({ event: 'test_address_added', address: added }, `added missing test address ${added}`);
    this.declareGroups(config);
    this.convergence?.retain(
      new Set(config.groups.flatMap((g) => g.dataAddresses.map((d) => `${g.name} ${d.address.address}`))),
    );
    this.hooks.declare();
    this.refresher.set(config.announce.refreshIntervalMs);
    this.startEngine();
    this.exporter.events.configLoaded(true, Date.now() / 1000);
    log.info(
      {
        event: 'config_reloaded',
        groups: config.groups.length,
        carried_interfaces: [...this.engine.carriedInterfaces],
      },
      'configuration reloaded',
    );
  }

  /** A reload that failed validation: say so, keep running the old configuration. */
  reloadRejected(): void {
    this.exporter.events.configLoaded(false, Date.now() / 1000);
  }

  /**
   * A convergence watch is a socket per moved address: opened during a failover of
   * a thousand addresses it cost the failover 80 ms. It opens when the batch is
   * done instead; a packet that arrived before is missed, the next one counts.
   */
  private watchWhenIdle(m: Move): void {
    if (!this.convergence) return;
    this.toWatch.push(m);
    if (this.toWatch.length > 1) return;
    this.executor
      .idle()
      .then(() => {
        for (const moved of this.toWatch.splice(0)) this.convergence?.moved(moved);
      })
      .catch((err: Error) =>
        this.options.log.warn(
          { event: 'convergence_watch_error', err: err.message },
          `convergence watch: ${err.message}`,
        ),
      );
  }

  private act(a: EngineAction): void {
    if (a.kind === 'send_probe') {
      const p: ProbeSend = {
        ifname: a.ifname,
        family: a.family,
        method: a.method,
        source: a.source,
        target: a.target,
        seq: a.seq,
        kind: a.probeKind,
      };
      if (!this.options.adapters.probes.send(p)) {
        this.engine.reportSendError(monotonicMs(), a.ifname, a.family, a.target);
        this.logSendFailure(p, { errno: 'no_socket', message: `no probe socket for ${a.ifname}` });
      }
      return;
    }
    this.executor.submit(a);
  }

  /**
   * The probe stays counted as sent: no reply comes, so it is lost when its
   * timeout passes, and a NIC whose every send fails is failed within the FDT.
   */
  private sendFailed(p: ProbeSend, failure: { errno: string; message: string }): void {
    this.driver.input((now) => this.engine.reportSendError(now, p.ifname, p.family, p.target));
    this.logSendFailure(p, failure);
  }

  /**
   * On a timer wake, the replies already waiting (see OutputSinks.beforeWake). A failure
   * here costs only that early read (the poll still reads them): logged once, never thrown.
   */
  private readWaitingReplies(): void {
    try {
      this.options.adapters.probes.readPending?.();
    } catch (err) {
      if (this.readPendingFailed) return;
      this.readPendingFailed = true;
      this.options.log.warn(
        { event: 'probe_read_failed', err: (err as Error).message },
        `reading waiting probe replies failed (they are read at the next poll instead): ${(err as Error).message}`,
      );
    }
  }

  private logSendFailure(p: ProbeSend, failure: { errno: string; message: string }): void {
    const suppressed = this.sendErrorLog.admit(monotonicMs(), p.ifname, p.target, failure.errno);
    if (suppressed === undefined) return;
    this.options.log.warn(
      {
        event: 'probe_send_failed',
        interface: p.ifname,
        family: p.family,
        source: p.source,
        target: p.target,
        errno: failure.errno,
        error: failure.message,
        suppressed,
      },
      `probe to ${p.target} on ${p.ifname} not sent: ${failure.message}${suppressed > 0 ? ` (${suppressed} more since the last report)` : ''}`,
    );
  }

  private observe(e: EngineEvent): void {
    logEvent(this.options.log, e);
    this.exporter.events.onEngineOutput(e);
    if (e.kind === 'probe_acked' || e.kind === 'probe_lost') {
      if (e.kind === 'probe_acked') this.answered.add(e.ifname);
      this.probeLog.push(e);
      return; // one per probe, and no hook event: no timestamp to format
    }
    const probing = (ifname: string) =>
      this.engine.snapshot().groups.some((g) => g.interfaces.some((i) => i.name === ifname && i.instances.length > 0));
    const hookEvent = fromEngineEvent(e, new Date().toISOString(), probing);
    if (hookEvent) this.hooks.publish(hookEvent);
  }

  ready(): boolean {
    return everyGroupHasVerdict(this.engine.snapshot(), this.answered);
  }

  async start(): Promise<void> {
    const { adapters, config, log } = this.options;
    // bind the ports first: if one is taken, nothing on the host has been touched yet
    const web = this.options.web ?? defaultWebOptions(this.options.listenAddress);
    this.http = await serveWeb(
      createApp(
        {
          exporter: this.exporter,
          ready: () => this.ready(),
          status: () => statusJson(this.engine.snapshot(), this.probeLog.recent(), monotonicToUnixSeconds),
          version: this.options.build.version,
        },
        web,
      ),
      web.listenAddresses,
      web.config,
      (message) => log.warn({ event: 'web_tls' }, message),
    );
    const admin = this.options.adminSocket ?? (await bindAdminSocket(config.adminSocket));
    this.admin = admin.server;
    admin.serve({
      handle: async (req) => {
        if (req.op === 'status') return { ok: true, result: this.engine.snapshot() };
        if (req.op === 'reload')
          return this.options.onReloadRequest
            ? this.options.onReloadRequest()
            : { ok: false, error: 'reload is not available' };
        let result: ReturnType<Engine['offline']> = { ok: false, error: 'unreachable' };
        this.driver.input((now) => {
          result =
            req.op === 'offline' ? this.engine.offline(now, req.interface) : this.engine.online(now, req.interface);
        });
        await this.executor.idle();
        return result.ok ? { ok: true, result: this.engine.snapshot() } : result;
      },
      watchProbes: (send) => this.probeLog.subscribe(send),
    });
    await this.adopt();
    adapters.onKernelChange(() =>
      this.driver.input((now) => {
        this.engine.reportLocalAddresses(now, localAddresses(adapters.view));
        this.refreshAnonymous(now);
        this.engine.reportLinks(now, linkReports(adapters.view, this.ifnames()));
        this.engine.reportRoutes(now, adapters.view.gatewayRoutes());
        this.engine.observeAddresses(now, addressHolders(adapters.view, this.config));
        this.restoreTestAddresses();
      }),
    );
    adapters.probes.onReplies((replies) =>
      this.driver.input((now) => {
        for (const r of replies) this.engine.reportReply(now, r);
      }),
    );
    adapters.probes.onIgnored((reason) => this.exporter.events.ignoredPacket(reason));
    adapters.probes.onSendError((p, failure) => this.sendFailed(p, failure));
    this.exporter.events.configLoaded(true, Date.now() / 1000);
    this.refresher.set(config.announce.refreshIntervalMs);
    log.info(
      { event: 'started', listen: web.listenAddresses, admin_socket: config.adminSocket, groups: config.groups.length },
      'ipmpd started',
    );
  }

  /**
   * A NIC that comes back (hot-plug, re-created veth, driver reload) comes back
   * without its test address: put it back, or the NIC could never be probed again.
   */
  private restoreTestAddresses(): void {
    if (this.restoring) return;
    this.restoring = true;
    const { adapters, log } = this.options;
    adapters
      .ensureTestAddresses(this.config)
      .then((added) => {
        for (const a of added) log.info({ event: 'test_address_added', address: a }, `added missing test address ${a}`);
      })
      .catch((err: Error) =>
        log.warn(
          { event: 'test_address_error', error: err.message },
          `could not restore a test address: ${err.message}`,
        ),
      )
      .finally(() => {
        this.restoring = false;
      });
  }

  /** Stop probing and serving; addresses stay where they are. */
  async stop(): Promise<void> {
    this.driver.stop();
    this.executor.stop();
    this.refresher.set(0);
    await this.executor.idle();
    this.convergence?.stop();
    await this.hooks.stop();
    await this.http?.close();
    await new Promise<void>((r) => (this.admin ? this.admin.close(() => r()) : r()));
    await this.options.adapters.close();
  }
}
