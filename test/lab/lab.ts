// A network-namespace test lab: every host and every switch (a bridge) gets its own namespace,
// NICs are veth pairs created straight between namespaces (nothing ever appears in the root
// namespace), and faults are injected on the switch side so the host under test sees them the
// way it would see a real cable, port or peer fail.
import { spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  deleteNamespaces,
  deleteNamespacesSync,
  registerLive,
  sweepStale,
  unregisterLive,
  type SyncTeardown,
} from './cleanup.js';
import { ipBatch, ipJson, nftScript, run, type RunResult } from './run.js';
import { validateLabSpec, type HostSpec, type LabSpec } from './spec.js';

export type { HostSpec, LabSpec, NicSpec, SwitchSpec } from './spec.js';
export { sweepStale } from './cleanup.js';

/** The bridge inside every switch namespace. */
export const BRIDGE = 'br0';
const LOSS_TABLE = 'lab_loss';
const SILENCE_TABLE = 'lab_silence';

export interface LabOptions {
  /** First part of every namespace name: `<prefix>-<pid>-<random4>-<host>`. Default 'ipmpd'. */
  prefix?: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Resolve with the non-zero exit code instead of rejecting. */
  allowFail?: boolean;
  /** Written to the command's stdin. */
  input?: string;
}

export interface LabAddress {
  dev: string;
  cidr: string;
  family: 4 | 6;
  /** every flag `ip -j addr` reports as true: 'secondary', 'deprecated', 'nodad', 'tentative', ... */
  flags: string[];
  scope: string;
  /** IPv4 label, e.g. 'eth0' */
  label?: string;
}

export interface PingOptions {
  /** echo requests to send; success means at least one reply. Default 1. */
  count?: number;
  /** how long to wait for a reply after the last request. Default 1000. */
  timeoutMs?: number;
  /** bind to this interface (ping -I) */
  dev?: string;
  /** between requests when count > 1. Default 100. */
  intervalMs?: number;
  /** allow pinging a broadcast address (ping -b) */
  broadcast?: boolean;
}

/** 'in' = frames the host receives through this NIC, 'out' = frames it sends. */
export type LossDirection = 'both' | 'in' | 'out';

/** Where a host NIC plugs in: the switch-side end of its veth pair. */
export interface SwitchPort {
  host: string;
  nic: string;
  switch: string;
  switchNs: string;
  port: string;
}

interface LossRule {
  percent: number;
  direction: LossDirection;
}

interface AddrInfoJson {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
  label?: string;
  [flag: string]: unknown;
}
interface LinkJson {
  ifname: string;
  address?: string;
  flags?: string[];
  operstate?: string;
  addr_info?: AddrInfoJson[];
}
interface NeighJson {
  dst: string;
  dev?: string;
  lladdr?: string;
  state?: string[];
}

export class Lab implements SyncTeardown {
  /** milliseconds Lab.create() took, for reports and benchmarks */
  createdInMs = 0;
  /** milliseconds per creation phase, to see where the time goes */
  readonly phaseMs: Record<string, number> = {};
  private readonly children = new Set<ChildProcess>();
  private readonly lossBySwitch = new Map<string, Map<string, LossRule>>();
  private destroying: Promise<void> | undefined;

  private constructor(
    readonly spec: LabSpec,
    /** `<prefix>-<pid>-<random4>`, shared by all namespaces of this lab */
    readonly id: string,
    private readonly hostNs: Map<string, string>,
    private readonly switchNsByName: Map<string, string>,
    private readonly ports: Map<string, SwitchPort>,
  ) {}

  static async create(spec: LabSpec, opts: LabOptions = {}): Promise<Lab> {
    const started = performance.now();
    validateLabSpec(spec);
    const prefix = opts.prefix ?? 'ipmpd';
    if (!/^[A-Za-z][A-Za-z0-9_]{0,15}$/.test(prefix)) {
      throw new Error(
        `Lab.create: opts.prefix "${prefix}" must be 1-16 letters, digits or '_', starting with a letter`,
      );
    }
    const id = `${prefix}-${process.pid}-${randomBytes(2).toString('hex')}`;
    const hostNs = new Map(spec.hosts.map((h) => [h.name, `${id}-${h.name}`]));
    const switchNs = new Map(spec.switches.map((s) => [s.name, `${id}-sw-${s.name}`]));
    const clash = [...hostNs.values()].find((n) => [...switchNs.values()].includes(n));
    if (clash) throw new Error(`Lab.create: host and switch would share namespace "${clash}"; rename the host`);

    const lab = new Lab(spec, id, hostNs, switchNs, planPorts(spec, switchNs));
    await sweepStale(prefix).catch(() => []); // best effort: never block a new lab on old debris
    lab.phaseMs.sweep = performance.now() - started;
    registerLive(lab); // from here on, Ctrl-C or a crash removes whatever exists
    try {
      await lab.build();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    lab.createdInMs = performance.now() - started;
    return lab;
  }

  /** Real namespace name of a host. */
  ns(host: string): string {
    const ns = this.hostNs.get(host);
    if (!ns) throw new Error(`lab: unknown host "${host}" (hosts: ${[...this.hostNs.keys()].join(', ')})`);
    return ns;
  }

  /** Real namespace name of a switch. */
  switchNs(name: string): string {
    const ns = this.switchNsByName.get(name);
    if (!ns) throw new Error(`lab: unknown switch "${name}" (switches: ${[...this.switchNsByName.keys()].join(', ')})`);
    return ns;
  }

  /** All namespaces of this lab, hosts first. */
  namespaces(): string[] {
    return [...this.hostNs.values(), ...this.switchNsByName.values()];
  }

  /** The switch-side port a host NIC is plugged into. */
  port(host: string, nic: string): SwitchPort {
    this.ns(host);
    const port = this.ports.get(portKey(host, nic));
    if (!port) throw new Error(`lab: host "${host}" has no NIC "${nic}"`);
    return port;
  }

  async exec(host: string, cmd: string[], opts: ExecOptions = {}): Promise<RunResult> {
    if (cmd.length === 0) throw new Error(`lab.exec on "${host}": empty command`);
    return run(['ip', 'netns', 'exec', this.ns(host), ...cmd], {
      timeoutMs: opts.timeoutMs ?? 30_000,
      allowFail: opts.allowFail ?? false,
      input: opts.input,
      what: `lab.exec on "${host}"`,
    });
  }

  /**
   * Starts a long-running command in a host namespace. It gets its own process group so that
   * destroy() (or the exit handlers) can kill it together with anything it forked.
   */
  spawn(host: string, cmd: string[], opts: SpawnOptions = {}): ChildProcess {
    if (cmd.length === 0) throw new Error(`lab.spawn on "${host}": empty command`);
    if (this.destroying) throw new Error(`lab.spawn on "${host}": lab is destroyed`);
    const child = spawnChild('ip', ['netns', 'exec', this.ns(host), ...cmd], {
      stdio: 'pipe',
      ...opts,
      detached: true,
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /**
   * Signals a spawned process (its whole group) and waits for it to exit; SIGKILL after
   * graceMs. Returns its exit code (null when it died by a signal).
   */
  async stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    signalGroup(child, signal);
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    try {
      const [code] = await exited;
      return code;
    } finally {
      clearTimeout(timer);
    }
  }

  async mac(host: string, nic: string): Promise<string> {
    const links = await ipJson<LinkJson[]>(this.ns(host), ['link', 'show', 'dev', nic], `lab.mac("${host}", "${nic}")`);
    const address = links[0]?.address;
    if (!address) throw new Error(`lab.mac: "${host}" reports no MAC address for "${nic}"`);
    return address;
  }

  /** Link flags of a host NIC from `ip -j link`, e.g. ['BROADCAST', 'UP', 'LOWER_UP']. */
  async linkFlags(host: string, nic: string): Promise<string[]> {
    const links = await ipJson<LinkJson[]>(
      this.ns(host),
      ['link', 'show', 'dev', nic],
      `lab.linkFlags("${host}", "${nic}")`,
    );
    return links[0]?.flags ?? [];
  }

  /** Addresses of one NIC, or of every interface except lo. */
  async addresses(host: string, nic?: string): Promise<LabAddress[]> {
    const args = nic ? ['addr', 'show', 'dev', nic] : ['addr', 'show'];
    const links = await ipJson<LinkJson[]>(this.ns(host), args, `lab.addresses("${host}")`);
    const result: LabAddress[] = [];
    for (const link of links) {
      if (!nic && link.ifname === 'lo') continue;
      for (const a of link.addr_info ?? []) {
        if (a.family !== 'inet' && a.family !== 'inet6') continue;
        result.push({
          dev: link.ifname,
          cidr: `${a.local}/${a.prefixlen}`,
          family: a.family === 'inet' ? 4 : 6,
          flags: Object.keys(a).filter((k) => a[k] === true),
          scope: a.scope ?? 'global',
          ...(a.label !== undefined ? { label: a.label } : {}),
        });
      }
    }
    return result;
  }

  /** The NICs of `host` that hold `address` (any prefix length), sorted. */
  async holders(host: string, address: string): Promise<string[]> {
    return (await this.holdersOf(host, [address])).get(address)!;
  }

  /** The NICs holding each of `addresses`, sorted, from one reading of the host's addresses (one instant). */
  async holdersOf(host: string, addresses: readonly string[]): Promise<Map<string, string[]>> {
    const all = await this.addresses(host);
    return new Map(
      addresses.map((address) => [
        address,
        all
          .filter((a) => a.cidr.split('/')[0] === address)
          .map((a) => a.dev)
          .sort(),
      ]),
    );
  }

  /** The link-layer address the host's neighbour table holds for ip (undefined if none/unresolved). */
  async neighbor(host: string, ip: string, dev?: string): Promise<string | undefined> {
    const args = ['neigh', 'show', 'to', ip, ...(dev ? ['dev', dev] : [])];
    const entries = await ipJson<NeighJson[]>(this.ns(host), args, `lab.neighbor("${host}", "${ip}")`);
    return entries.find((e) => e.dst === ip && e.lladdr && !e.state?.includes('FAILED'))?.lladdr;
  }

  /** True when at least one echo reply came back. */
  async ping(host: string, target: string, opts: PingOptions = {}): Promise<boolean> {
    const count = opts.count ?? 1;
    const timeoutMs = opts.timeoutMs ?? 1000;
    const intervalMs = opts.intervalMs ?? 100;
    const argv = ['ping', '-n', '-q', '-c', String(count), '-W', (timeoutMs / 1000).toFixed(3)];
    if (count > 1) argv.push('-i', (intervalMs / 1000).toFixed(3));
    if (opts.dev) argv.push('-I', opts.dev);
    if (opts.broadcast) argv.push('-b');
    argv.push(target);
    const guardMs = timeoutMs + count * intervalMs + 2000;
    const r = await this.exec(host, argv, { allowFail: true, timeoutMs: guardMs });
    // "Network is unreachable" and the like are a plain no; a mistake in the call is not.
    if (r.timedOut || /usage|invalid|unknown iface|no such device|name or service not known/i.test(r.stderr)) {
      throw new Error(`lab.ping from "${host}" to ${target} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    }
    return r.code === 0;
  }

  /**
   * Everyone who answers an echo to a multicast/broadcast address (e.g. 224.0.0.1 or ff02::1),
   * sorted. Two rounds: all replies to the first one are collected, duplicates included.
   */
  async pingResponders(
    host: string,
    target: string,
    opts: { dev?: string; source?: string; waitMs?: number } = {},
  ): Promise<string[]> {
    if (opts.dev && opts.source) throw new Error('lab.pingResponders: give dev or source, not both (ping has one -I)');
    const argv = ['ping', '-n', '-c', '2', '-i', '0.2', '-W', ((opts.waitMs ?? 500) / 1000).toFixed(3)];
    // A source address also picks the outgoing NIC for multicast (the kernel routes a
    // multicast with a bound source out of the device that owns it).
    const bind = opts.source ?? opts.dev;
    if (bind) argv.push('-I', bind);
    const firstOctet = Number(target.split('.')[0]);
    const ipv4Multicast = firstOctet >= 224 && firstOctet <= 239;
    if (!target.includes(':') && !ipv4Multicast) argv.push('-b'); // a broadcast address needs -b
    argv.push(target);
    const r = await this.exec(host, argv, { allowFail: true, timeoutMs: (opts.waitMs ?? 500) + 3000 });
    const found = new Set<string>();
    for (const m of r.stdout.matchAll(/bytes from ([0-9a-fA-F.:%\w]+?):? icmp_seq=/g)) found.add(m[1]!);
    return [...found].sort();
  }

  // ---- fault injection (all on the switch side unless stated) ----

  /** Switch-side veth down: the host's NIC loses carrier (NO-CARRIER). */
  async cutCarrier(host: string, nic: string): Promise<void> {
    const p = this.port(host, nic);
    await ipBatch(p.switchNs, [`link set ${p.port} down`], `lab.cutCarrier("${host}", "${nic}")`);
  }

  async restoreCarrier(host: string, nic: string): Promise<void> {
    const p = this.port(host, nic);
    await ipBatch(p.switchNs, [`link set ${p.port} up`], `lab.restoreCarrier("${host}", "${nic}")`);
  }

  /** Unplug the port from the bridge: the link stays up on both ends but no frame gets through. */
  async silentCut(host: string, nic: string): Promise<void> {
    const p = this.port(host, nic);
    await ipBatch(p.switchNs, [`link set ${p.port} nomaster`], `lab.silentCut("${host}", "${nic}")`);
  }

  async reattach(host: string, nic: string): Promise<void> {
    const p = this.port(host, nic);
    await ipBatch(p.switchNs, [`link set ${p.port} master ${BRIDGE}`], `lab.reattach("${host}", "${nic}")`);
  }

  /** The NIC disappears from the host (its veth pair is deleted: a hot-unplug). */
  async removeNic(host: string, nic: string): Promise<void> {
    this.port(host, nic);
    await ipBatch(this.ns(host), [`link del ${nic}`], `lab.removeNic("${host}", "${nic}")`);
  }

  /** Plug a removed NIC back: same name, MAC and addresses as the spec, on the same switch port. */
  async recreateNic(host: string, nic: string): Promise<void> {
    const p = this.port(host, nic);
    const spec = this.spec.hosts.find((h) => h.name === host)!.nics.find((n) => n.name === nic)!;
    const what = `lab.recreateNic("${host}", "${nic}")`;
    const addresses = (spec.addresses ?? []).map((cidr) => addressCommand(cidr, nic));
    await ipBatch(
      this.ns(host),
      [
        `link add ${nic}${spec.mac ? ` address ${spec.mac}` : ''} type veth peer name ${p.port} netns ${p.switchNs}`,
        ...addresses,
      ],
      what,
    );
    await ipBatch(p.switchNs, [`link set ${p.port} master ${BRIDGE} up`], what);
    await ipBatch(this.ns(host), [`link set ${nic} up`], what);
  }

  /**
   * Random frame loss on the switch port (nftables bridge family, numgen random, 0.01 %
   * resolution). With 'both', each direction independently loses `percent`. 0 removes it.
   */
  async setLoss(host: string, nic: string, percent: number, direction: LossDirection = 'both'): Promise<void> {
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw new Error(`lab.setLoss("${host}", "${nic}"): percent must be 0..100, got ${percent}`);
    }
    if (!['both', 'in', 'out'].includes(direction)) {
      throw new Error(`lab.setLoss("${host}", "${nic}"): direction must be both|in|out, got ${direction}`);
    }
    const p = this.port(host, nic);
    const rules = this.lossBySwitch.get(p.switch) ?? new Map<string, LossRule>();
    this.lossBySwitch.set(p.switch, rules);
    if (percent === 0) rules.delete(p.port);
    else rules.set(p.port, { percent, direction });
    await nftScript(p.switchNs, renderLossTable(rules), `lab.setLoss("${host}", "${nic}", ${percent})`);
  }

  /** The host stops answering anything: every frame arriving on its NICs (ARP/ND too) is dropped. */
  async silenceHost(host: string): Promise<void> {
    const ns = this.ns(host);
    const nics = this.spec.hosts.find((h) => h.name === host)?.nics ?? [];
    if (nics.length === 0) throw new Error(`lab.silenceHost: host "${host}" has no NICs`);
    const devices = nics.map((n) => `"${n.name}"`).join(', ');
    const script =
      `table netdev ${SILENCE_TABLE}\ndelete table netdev ${SILENCE_TABLE}\n` +
      `table netdev ${SILENCE_TABLE} {\n` +
      `  chain ingress { type filter hook ingress devices = { ${devices} } priority -500; policy drop; }\n}\n`;
    await nftScript(ns, script, `lab.silenceHost("${host}")`);
  }

  async unsilenceHost(host: string): Promise<void> {
    // Creating before deleting makes this succeed whether or not the host was silenced.
    const script = `table netdev ${SILENCE_TABLE}\ndelete table netdev ${SILENCE_TABLE}\n`;
    await nftScript(this.ns(host), script, `lab.unsilenceHost("${host}")`);
  }

  // ---- teardown ----

  /** Kills spawned processes and deletes every namespace of this lab. Safe to call twice. */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      await Promise.all([...this.children].map((c) => this.stopProcess(c, 'SIGTERM', 1000).catch(() => null)));
      await deleteNamespaces(this.namespaces());
      unregisterLive(this);
    })();
    return this.destroying;
  }

  /** Used by the exit/signal handlers, where nothing asynchronous can run any more. */
  teardownSync(): void {
    for (const child of this.children) signalGroup(child, 'SIGKILL');
    this.children.clear();
    deleteNamespacesSync(this.namespaces());
  }

  // ---- construction ----

  private async build(): Promise<void> {
    let mark = performance.now();
    const phaseDone = (name: string): void => {
      const now = performance.now();
      this.phaseMs[name] = now - mark;
      mark = now;
    };
    // 1. All namespaces in one process.
    await ipBatch(
      undefined,
      this.namespaces().map((n) => `netns add ${n}`),
      'lab: creating namespaces',
    );
    phaseDone('namespaces');

    // 2. Sysctls that must hold before any interface exists, then the bridges.
    //    Switches get no IPv6 at all, so that they never show up as neighbours or ping responders.
    await Promise.all([
      ...this.spec.switches.map(async (sw) => {
        const ns = this.switchNs(sw.name);
        await setSysctls(
          ns,
          { 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1' },
          `switch "${sw.name}"`,
        );
        await ipBatch(
          ns,
          [
            'link set lo up',
            // STP off and forward_delay 0: ports forward the moment they join.
            // No multicast snooping: all multicast is flooded, like a dumb switch.
            `link add ${BRIDGE} type bridge stp_state 0 forward_delay 0 mcast_snooping 0`,
            `link set ${BRIDGE} up`,
          ],
          `lab: switch "${sw.name}" setup`,
        );
      }),
      ...this.spec.hosts.map((host) => setSysctls(this.ns(host.name), baseHostSysctls(host), `host "${host.name}"`)),
    ]);
    phaseDone('sysctlsAndBridges');

    // 3. Hosts: NICs (veth peers land directly in the switch namespaces), addresses, routes.
    await Promise.all(this.spec.hosts.map((host) => this.buildHost(host)));
    phaseDone('hosts');

    // 4. Plug every port into its bridge.
    await Promise.all(
      this.spec.switches.map((sw) => {
        const lines = [...this.ports.values()]
          .filter((p) => p.switch === sw.name)
          .map((p) => `link set ${p.port} master ${BRIDGE} up`);
        return ipBatch(this.switchNs(sw.name), lines, `lab: switch "${sw.name}" ports`);
      }),
    );
    phaseDone('ports');
  }

  private async buildHost(host: HostSpec): Promise<void> {
    const ns = this.ns(host.name);
    const what = `lab: host "${host.name}" setup`;
    const links = ['link set lo up'];
    const config: string[] = [];
    for (const nic of host.nics) {
      const p = this.port(host.name, nic.name);
      const mac = nic.mac ? ` address ${nic.mac}` : '';
      links.push(`link add ${nic.name}${mac} type veth peer name ${p.port} netns ${p.switchNs}`);
      for (const cidr of nic.addresses ?? []) config.push(addressCommand(cidr, nic.name));
      config.push(`link set ${nic.name} up`);
    }
    for (const route of host.routes ?? []) config.push(`route add ${route}`);

    const userSysctls = host.sysctls ?? {};
    if (Object.keys(userSysctls).length === 0) {
      await ipBatch(ns, [...links, ...config], what);
    } else {
      // User sysctls may name the NICs (net.ipv4.conf.eth0.*), so they go after the links
      // exist but before any address is configured.
      await ipBatch(ns, links, what);
      await setSysctls(ns, userSysctls, `host "${host.name}"`);
      await ipBatch(ns, config, what);
    }
  }
}

/** Creates a lab, runs fn, and always destroys the lab. */
export async function withLab<T>(spec: LabSpec, fn: (lab: Lab) => Promise<T>, opts?: LabOptions): Promise<T> {
  const lab = await Lab.create(spec, opts);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}

function portKey(host: string, nic: string): string {
  return `${host}\0${nic}`;
}

/**
 * Switch-side port names: `<host>-<nic>` when it fits in 15 characters and is unique on its
 * switch (readable in `bridge link`), else `p<h>n<n>` (index based, and without '-', so it
 * can never clash with a readable one).
 */
function planPorts(spec: LabSpec, switchNs: Map<string, string>): Map<string, SwitchPort> {
  const ports = new Map<string, SwitchPort>();
  const usedBySwitch = new Map<string, Set<string>>();
  spec.hosts.forEach((host, h) => {
    host.nics.forEach((nic, n) => {
      const used = usedBySwitch.get(nic.switch) ?? new Set([BRIDGE]);
      usedBySwitch.set(nic.switch, used);
      let port = `${host.name}-${nic.name}`;
      if (port.length > 15 || used.has(port)) port = `p${h}n${n}`;
      used.add(port);
      ports.set(portKey(host.name, nic.name), {
        host: host.name,
        nic: nic.name,
        switch: nic.switch,
        switchNs: switchNs.get(nic.switch)!,
        port,
      });
    });
  });
  return ports;
}

/** `ip` batch line adding an address; `brd +` gives IPv4 the subnet broadcast, as `ifconfig ... broadcast +` does. */
function addressCommand(cidr: string, nic: string): string {
  return cidr.includes(':') ? `addr add ${cidr} dev ${nic}` : `addr add ${cidr} brd + dev ${nic}`;
}

function baseHostSysctls(host: HostSpec): Record<string, string> {
  const s: Record<string, string> = {
    // No duplicate address detection: v6 addresses are usable at once (`default` covers the
    // NICs that are created next).
    'net.ipv6.conf.all.accept_dad': '0',
    'net.ipv6.conf.default.accept_dad': '0',
  };
  if (host.forwarding) {
    s['net.ipv4.ip_forward'] = '1';
    s['net.ipv6.conf.all.forwarding'] = '1';
  }
  if (host.answerBroadcastPing) s['net.ipv4.icmp_echo_ignore_broadcasts'] = '0';
  return s;
}

async function setSysctls(ns: string, values: Record<string, string>, owner: string): Promise<void> {
  const args = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  if (args.length === 0) return;
  await run(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', ...args], {
    what: `lab: sysctls of ${owner}`,
    timeoutMs: 10_000,
  });
}

function renderLossTable(rules: Map<string, LossRule>): string {
  // "create, delete, recreate" replaces the table atomically whether or not it existed.
  let script = `table bridge ${LOSS_TABLE}\ndelete table bridge ${LOSS_TABLE}\n`;
  if (rules.size === 0) return script;
  const lines: string[] = [];
  for (const [port, rule] of rules) {
    // numgen draws 0..9999 per frame; 100 % needs no draw (the range stops at 9999).
    const drop = rule.percent >= 100 ? 'drop' : `numgen random mod 10000 < ${Math.round(rule.percent * 100)} drop`;
    // Bridged frames pass the forward hook once per output port, so oifname sees each copy.
    if (rule.direction !== 'in') lines.push(`    iifname "${port}" ${drop}`);
    if (rule.direction !== 'out') lines.push(`    oifname "${port}" ${drop}`);
  }
  script += `table bridge ${LOSS_TABLE} {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n${lines.join('\n')}\n  }\n}\n`;
  return script;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the whole group: the command and whatever it forked
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
