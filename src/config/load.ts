// YAML text -> validated DaemonConfig, with every problem reported as
// FILE:LINE:COL: what is wrong.

import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ANONYMOUS_GROUP } from '../core/anonymous.js';
import { inSubnet } from '../core/addressMath.js';
import { MIN_FDT_MS } from '../core/constants.js';
import {
  DEFAULT_ADMIN_SOCKET,
  DEFAULT_FDT_MS,
  DEFAULT_HOOK_TIMEOUT_MS,
  DEFAULT_WEBHOOK_RETRIES,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
} from './defaults.js';
import { canonicalAddress, isLinkLocalV6, parseCidr } from './address.js';
import { formatDuration, parseDuration } from './duration.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { canonicalProtocol, DEFAULT_FOLLOW_PROTOCOLS, knownProtocolNames } from './routeProtocols.js';
import { rttBuckets } from './metrics.js';
import { RawConfig, schemaKeys } from './schema.js';
import {
  HOOK_EVENTS,
  type AnnounceConfig,
  type Cidr,
  type DaemonConfig,
  type DataAddressConfig,
  type GroupConfig,
  type HookConfig,
  type InterfaceConfig,
  type ProbeMethod,
  type WebhookConfig,
} from './types.js';

type Path = (string | number)[];

const IFNAME = /^[^/\s:]{1,15}$/;

export async function loadConfigFile(file: string): Promise<DaemonConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError([
      { file, line: 0, column: 0, message: e.code === 'ENOENT' ? 'no such file' : `cannot read: ${e.message}` },
    ]);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): DaemonConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  const at = (offset: number, message: string) => {
    const p = lines.linePos(offset);
    issues.push({ file, line: p.line, column: p.col, message: shortenQuotes(message) });
  };
  for (const e of [...doc.errors, ...doc.warnings]) at(e.pos[0], e.message.split('\n')[0]!);
  if (issues.length) throw new ConfigError(issues);

  let json: unknown;
  try {
    // aliases are resolved here: an undefined one, or an alias bomb, throws
    json = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as unknown;
  } catch (err) {
    at(firstAliasOffset(doc), `YAML: ${(err as Error).message}`);
    throw new ConfigError(issues);
  }
  const report = (path: Path, message: string, key = false) => at(offsetOf(doc, path, key), message);
  const parsed = RawConfig.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as Path;
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) report([...path, k], `unknown key "${k}"${suggest(k)}`, true);
      } else {
        report(path, `${path.length ? `${path.join('.')}: ` : ''}${issue.message}`);
      }
    }
    throw new ConfigError(sortIssues(issues));
  }
  const config = build(parsed.data, report);
  if (issues.length) throw new ConfigError(sortIssues(issues));
  return config;
}

/** A message quotes the offending value; a 10 kB value would bury the message. */
function shortenQuotes(message: string): string {
  return message.replace(/\S{61,}/g, (token) => `${token.slice(0, 40)}…`);
}

/** Where the first alias (*name) of the document is: the likely culprit when resolving aliases fails. */
function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

type Report = (path: Path, message: string) => void;
type RawGroup = NonNullable<RawConfig['groups']>[number];
type RawInterface = RawGroup['interfaces'][number];
type RawDataAddress = NonNullable<RawGroup['data_addresses']>[number];

function build(raw: RawConfig, report: Report): DaemonConfig {
  const failureDetectionTimeMs = failureDetectionTime(raw, report);
  const groups = groupConfigs(raw.groups ?? [], report);
  return {
    failureDetectionTimeMs,
    failback: raw.failback ?? true,
    trackInterfacesOnlyWithGroups: raw.track_interfaces_only_with_groups ?? true,
    onAllTargetsLost: raw.on_all_targets_lost ?? 'rediscover',
    announce: announce(raw, report),
    fixSysctls: raw.fix_sysctls ?? false,
    followRouteProtocols: followProtocols(raw.follow_route_protocols, report),
    adminSocket: raw.admin_socket ?? DEFAULT_ADMIN_SOCKET,
    hooks: hooks(raw, report),
    webhooks: webhooks(raw, report),
    metrics: {
      rttHistogram: {
        granularity: raw.metrics?.rtt_histogram?.granularity ?? 'target',
        ...rttBuckets(raw.metrics?.rtt_histogram?.buckets, report),
      },
    },
    groups,
  };
}

function failureDetectionTime(raw: RawConfig, report: Report): number {
  const fdt = durationAt(raw.failure_detection_time, ['failure_detection_time'], DEFAULT_FDT_MS, report);
  if (fdt < MIN_FDT_MS)
    report(
      ['failure_detection_time'],
      `failure_detection_time must be at least ${formatDuration(MIN_FDT_MS)} (in.mpathd's minimum), got ${raw.failure_detection_time}`,
    );
  return fdt;
}

/** What the groups have taken so far: a group name, member or address is used once in the whole file. */
class Taken {
  private readonly groups = new Set<string>();
  /** interface -> its group */
  private readonly interfaces = new Map<string, string>();
  /** address -> what it is ("the test address of eth0") */
  private readonly addresses = new Map<string, string>();

  constructor(private readonly report: Report) {}

  group(name: string, path: Path): void {
    if (this.groups.has(name)) this.report(path, `group "${name}" is defined twice`);
    this.groups.add(name);
  }

  member(name: string, group: string, path: Path): void {
    const other = this.interfaces.get(name);
    if (other) this.report(path, `interface ${name} is already a member of group ${other}`);
    this.interfaces.set(name, group);
  }

  address(address: string, where: string, path: Path): void {
    const first = this.addresses.get(address);
    if (first) this.report(path, `${address} is already used as ${first}`);
    else this.addresses.set(address, where);
  }
}

function groupConfigs(raw: readonly RawGroup[], report: Report): GroupConfig[] {
  const taken = new Taken(report);
  return raw.map((g, gi) => {
    const gp: Path = ['groups', gi];
    taken.group(g.name, [...gp, 'name']);
    if (g.name === ANONYMOUS_GROUP)
      report(
        [...gp, 'name'],
        `"${ANONYMOUS_GROUP}" is reserved for the NICs in no group (track_interfaces_only_with_groups: false)`,
      );
    const probeMethod = g.probe_method ?? 'icmp';
    const interfaces = g.interfaces.map((i, ii) =>
      member(i, g.name, probeMethod, [...gp, 'interfaces', ii], taken, report),
    );
    const dataAddresses = (g.data_addresses ?? []).flatMap((d, di) =>
      dataAddress(d, g, [...gp, 'data_addresses', di], taken, report),
    );
    const probeTargets = (g.probe_targets ?? []).flatMap((t, ti) => {
      const a = canonicalAddress(t);
      if (!a) {
        report(
          [...gp, 'probe_targets', ti],
          `probe target "${t}" is not an address${t.includes('/') ? ' (give a plain address, without a prefix length)' : ''}`,
        );
        return [];
      }
      return [a];
    });
    if (probeMethod === 'arp') checkArpTargets(g.name, probeTargets, dataAddresses, gp, report);
    return { name: g.name, interfaces, dataAddresses, probeTargets, probeMethod };
  });
}

function member(
  i: RawInterface,
  group: string,
  probeMethod: ProbeMethod,
  ip: Path,
  taken: Taken,
  report: Report,
): InterfaceConfig {
  if (!IFNAME.test(i.name) || i.name === '.' || i.name === '..')
    report(
      [...ip, 'name'],
      `"${i.name}" is not a valid Linux interface name (1 to 15 characters, no "/", ":" or spaces)`,
    );
  taken.member(i.name, group, [...ip, 'name']);
  return {
    name: i.name,
    testAddresses: testAddresses(i, probeMethod, ip, taken, report),
    standby: i.standby ?? false,
  };
}

/**
 * At most one test address per family; an IPv6 one link-local, as in.mpathd
 * requires; no IPv4 one with ARP probing (it would be unused).
 */
function testAddresses(i: RawInterface, probeMethod: ProbeMethod, ip: Path, taken: Taken, report: Report): Cidr[] {
  const texts = i.test_address === undefined ? [] : Array.isArray(i.test_address) ? i.test_address : [i.test_address];
  const tests: Cidr[] = [];
  texts.forEach((t, ti) => {
    const tp: Path = Array.isArray(i.test_address) ? [...ip, 'test_address', ti] : [...ip, 'test_address'];
    const c = parseCidr(t);
    if (!c.ok) return report(tp, `test_address: ${c.error}`);
    if (tests.some((x) => x.family === c.cidr.family))
      return report(tp, `interface ${i.name} has more than one IPv${c.cidr.family} test address`);
    if (c.cidr.family === 4 && probeMethod === 'arp')
      return report(
        tp,
        `test_address ${c.cidr.address} is not used with probe_method: arp (IPv4 members probe with ARP from 0.0.0.0): remove it, or use probe_method: icmp`,
      );
    if (c.cidr.family === 6 && !isLinkLocalV6(c.cidr.address))
      return report(tp, `IPv6 test address ${c.cidr.address} must be link-local (fe80::/10), as in.mpathd requires`);
    taken.address(c.cidr.address, `the test address of ${i.name}`, tp);
    tests.push(c.cidr);
  });
  return tests;
}

function dataAddress(d: RawDataAddress, g: RawGroup, dp: Path, taken: Taken, report: Report): DataAddressConfig[] {
  const text = typeof d === 'string' ? d : d.address;
  const c = parseCidr(text);
  if (!c.ok) {
    report(typeof d === 'string' ? dp : [...dp, 'address'], `data address: ${c.error}`);
    return [];
  }
  taken.address(c.cidr.address, `a data address of group ${g.name}`, typeof d === 'string' ? dp : [...dp, 'address']);
  const preferred = typeof d === 'string' ? undefined : d.preferred_interface;
  if (preferred !== undefined && !g.interfaces.some((i) => i.name === preferred))
    report([...dp, 'preferred_interface'], `preferred_interface ${preferred} is not a member of group ${g.name}`);
  return [{ address: c.cidr, ...(preferred !== undefined ? { preferredInterface: preferred } : {}) }];
}

function announce(raw: RawConfig, report: Report): AnnounceConfig {
  return {
    count: raw.announce?.count ?? 5,
    intervalMs: durationAt(raw.announce?.interval, ['announce', 'interval'], 0, report),
    secondBurstAfterMs: durationAt(raw.announce?.second_burst_after, ['announce', 'second_burst_after'], 5000, report),
    refreshIntervalMs: refreshInterval(raw, report),
    untilTrafficMs: durationAt(raw.announce?.until_traffic, ['announce', 'until_traffic'], 60_000, report),
  };
}

/**
 * ARP reaches only hosts on the link: with probe_method: arp, an IPv4 probe
 * target must lie in the subnet of one of the group's IPv4 data addresses
 * (the only IPv4 subnets an ARP group knows it is on).
 */
function checkArpTargets(
  group: string,
  targets: readonly string[],
  dataAddresses: readonly { address: Cidr }[],
  gp: Path,
  report: (path: Path, message: string) => void,
): void {
  const subnets = dataAddresses.map((d) => d.address).filter((c) => c.family === 4);
  targets.forEach((t, ti) => {
    if (t.includes(':')) return;
    if (subnets.length === 0)
      return report(
        [...gp, 'probe_targets', ti],
        `probe target ${t}: probe_method: arp needs an IPv4 data address in group ${group} to know which subnet the members are on`,
      );
    if (!subnets.some((c) => inSubnet(t, c.address, c.prefixLength, 4)))
      report(
        [...gp, 'probe_targets', ti],
        `probe target ${t} is not in the subnet of any IPv4 data address of group ${group} (${subnets.map((c) => `${c.address}/${c.prefixLength}`).join(', ')}); ARP probes reach only hosts on the link`,
      );
  });
}

/** Below this a refresh is a flood, not a reminder. */
const MIN_REFRESH_MS = 100;

function refreshInterval(raw: RawConfig, report: Report): number {
  const ms = durationAt(raw.announce?.refresh_interval, ['announce', 'refresh_interval'], 0, report);
  if (ms > 0 && ms < MIN_REFRESH_MS)
    report(
      ['announce', 'refresh_interval'],
      `announce.refresh_interval must be 0s (off) or at least ${MIN_REFRESH_MS}ms, got ${raw.announce?.refresh_interval}`,
    );
  return ms;
}

function hooks(raw: RawConfig, report: Report): HookConfig[] {
  return (raw.hooks ?? []).map((h, i) => {
    const timeoutMs = durationAt(h.timeout, ['hooks', i, 'timeout'], DEFAULT_HOOK_TIMEOUT_MS, report);
    if (timeoutMs <= 0) report(['hooks', i, 'timeout'], 'hooks.timeout must be more than 0s');
    if (h.command[0] === '') report(['hooks', i, 'command', 0], 'hooks.command: the program is empty');
    return { command: h.command, events: h.events ?? [...HOOK_EVENTS], timeoutMs };
  });
}

function webhooks(raw: RawConfig, report: Report): WebhookConfig[] {
  return (raw.webhooks ?? []).map((w, i) => {
    const timeoutMs = durationAt(w.timeout, ['webhooks', i, 'timeout'], DEFAULT_WEBHOOK_TIMEOUT_MS, report);
    if (timeoutMs <= 0) report(['webhooks', i, 'timeout'], 'webhooks.timeout must be more than 0s');
    let url: URL | undefined;
    try {
      url = new URL(w.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      report(['webhooks', i, 'url'], `webhook url "${w.url}" is not an http:// or https:// URL`);
    return {
      url: w.url,
      events: w.events ?? [...HOOK_EVENTS],
      timeoutMs,
      retries: w.retries ?? DEFAULT_WEBHOOK_RETRIES,
    };
  });
}

function followProtocols(list: Array<string | number> | undefined, report: Report): string[] {
  if (list === undefined) return [...DEFAULT_FOLLOW_PROTOCOLS];
  const names: string[] = [];
  list.forEach((v, i) => {
    const name = canonicalProtocol(v);
    if (name === undefined)
      report(
        ['follow_route_protocols', i],
        `follow_route_protocols: "${v}" is not a route origin (a number 0-255 or one of ${knownProtocolNames().join(', ')})`,
      );
    else if (!names.includes(name)) names.push(name);
  });
  return names;
}

function durationAt(text: string | undefined, path: Path, fallback: number, report: Report): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined) {
    report(path, `${path.join('.')}: "${text}" is not a duration (use e.g. 10s, 500ms, 1m30s)`);
    return fallback;
  }
  return ms;
}

/** Offset of the node at `path` (or of its key), falling back to the nearest existing parent. */
function offsetOf(doc: Document, path: Path, key: boolean): number {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    if (key && n === path.length && n > 0) {
      const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === sub[sub.length - 1]);
        const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
        if (range) return range[0];
      }
      continue;
    }
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range) return range[0];
  }
  return 0;
}

/** The keys a misspelt one is compared with (schema.ts is the only list). */
const KNOWN = schemaKeys(RawConfig);

function suggest(key: string): string {
  const close = KNOWN.find((k) => k.replace(/_/g, '') === key.toLowerCase().replace(/[_-]/g, ''));
  return close ? ` (did you mean "${close}"?)` : '';
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}
