// Reading a Solaris IPMP setup: /etc/hostname.<if>, /etc/hosts, /etc/netmasks,
// /etc/default/mpathd and a static-routes start script. Pure: text in, a
// description and warnings (with file and line) out.

import { DEFAULT_FDT_MS } from '../config/defaults.js';
import { MIN_FDT_MS } from '../core/constants.js';

export interface Warning {
  file: string;
  line: number;
  message: string;
}

export interface LogicalInterface {
  address: string; // as written: a host name or an address
  netmask?: string; // "+" or a dotted mask or a prefix length
  deprecated: boolean;
  failover: boolean;
  up: boolean;
  line: number;
}

export interface PhysicalInterface {
  name: string;
  file: string;
  group?: string;
  standby: boolean;
  logicals: LogicalInterface[];
}

const KNOWN_FLAG_TOKENS = new Set([
  'up',
  'down',
  'deprecated',
  '-deprecated',
  'failover',
  '-failover',
  'standby',
  '-standby',
  'private',
  '-private',
  'trailers',
  '-trailers',
  'arp',
  '-arp',
]);

/** /etc/hostname.<if>: the first logical interface, then one more per `addif`. */
export function parseHostnameFile(name: string, file: string, text: string, warnings: Warning[]): PhysicalInterface {
  const phys: PhysicalInterface = { name, file, standby: false, logicals: [] };
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const tokens = raw.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    let current: LogicalInterface | undefined;
    const start = (address: string) => {
      current = { address, deprecated: false, failover: true, up: false, line };
      phys.logicals.push(current);
    };
    for (let t = 0; t < tokens.length; t++) {
      const tok = tokens[t]!;
      const next = () => tokens[++t];
      if (tok === 'addif') {
        const a = next();
        if (!a) warnings.push({ file, line, message: '"addif" without an address' });
        else start(a);
      } else if (tok === 'group') {
        const g = next();
        if (g) phys.group = g;
      } else if (tok === 'netmask') {
        const m = next();
        if (current) current.netmask = m;
      } else if (tok === 'broadcast' || tok === 'metric' || tok === 'mtu' || tok === 'index' || tok === 'zone') {
        next(); // not needed on Linux
      } else if (KNOWN_FLAG_TOKENS.has(tok)) {
        if (!current) continue;
        if (tok === 'up') current.up = true;
        else if (tok === 'deprecated') current.deprecated = true;
        else if (tok === '-failover') current.failover = false;
        else if (tok === 'failover') current.failover = true;
        else if (tok === 'standby') phys.standby = true;
        else if (tok === 'private' || tok === 'trailers' || tok === '-arp' || tok === 'down')
          warnings.push({ file, line, message: `"${tok}" has no ipmpd equivalent; ignored` });
      } else if (!current) {
        start(tok); // the line opens with the interface's address (or host name)
      } else {
        warnings.push({ file, line, message: `unknown token "${tok}"; ignored` });
      }
    }
  });
  return phys;
}

/** /etc/hosts: name -> address (the first address naming it). */
export function parseHosts(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const [addr, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (!addr || names.length === 0) continue;
    for (const n of names) if (!map.has(n)) map.set(n, addr);
  }
  return map;
}

/** /etc/netmasks: network -> mask. */
export function parseNetmasks(text: string): Array<{ network: string; mask: string }> {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .filter((p) => p.length >= 2)
    .map(([network, mask]) => ({ network: network!, mask: mask! }));
}

/** /etc/default/mpathd: KEY=value, keys case-insensitive. */
export function parseMpathdDefaults(
  file: string,
  text: string,
  warnings: Warning[],
): { fdtMs?: number; failback?: boolean; trackOnlyGroups?: boolean } {
  const out: { fdtMs?: number; failback?: boolean; trackOnlyGroups?: boolean } = {};
  text.split('\n').forEach((raw, i) => {
    const l = raw.replace(/#.*/, '').trim();
    if (!l) return;
    const eq = l.indexOf('=');
    if (eq < 0) return warnings.push({ file, line: i + 1, message: `"${l}" is not KEY=value; ignored` });
    const key = l.slice(0, eq).trim().toUpperCase();
    const value = l.slice(eq + 1).trim();
    if (key === 'FAILURE_DETECTION_TIME') {
      const ms = Number.parseInt(value, value.startsWith('0x') ? 16 : 10);
      if (!Number.isFinite(ms) || ms <= 0)
        warnings.push({
          file,
          line: i + 1,
          message: `FAILURE_DETECTION_TIME=${value} is invalid; the default ${DEFAULT_FDT_MS} ms is used`,
        });
      else out.fdtMs = Math.max(ms, MIN_FDT_MS);
    } else if (key === 'FAILBACK' || key === 'TRACK_INTERFACES_ONLY_WITH_GROUPS') {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no')
        warnings.push({ file, line: i + 1, message: `${key}=${value} must be yes or no; the default is used` });
      else if (key === 'FAILBACK') out.failback = v === 'yes';
      else out.trackOnlyGroups = v === 'yes';
    } else {
      warnings.push({ file, line: i + 1, message: `${key} is not an in.mpathd tunable; ignored` });
    }
  });
  return out;
}

/** `route add host T T` (or `route add -host T G`) lines of a start script: the targets. */
export function parseStaticRoutes(
  file: string,
  text: string,
): Array<{ target: string; gateway: string; line: number }> {
  const out: Array<{ target: string; gateway: string; line: number }> = [];
  text.split('\n').forEach((raw, i) => {
    const m = /route\s+(?:-\w+\s+)*add\s+-?host\s+(\S+)\s+(\S+)/.exec(raw.replace(/#.*/, ''));
    if (m) out.push({ target: m[1]!, gateway: m[2]!, line: i + 1 });
  });
  void file;
  return out;
}
