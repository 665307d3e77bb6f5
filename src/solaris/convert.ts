// A Solaris IPMP setup -> an ipmpd configuration (YAML), with warnings that
// name the Solaris file and line.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { canonicalAddress } from '../config/address.js';
import { inSubnet } from '../core/addressMath.js';
import { formatDuration } from '../config/duration.js';
import {
  parseHostnameFile,
  parseHosts,
  parseMpathdDefaults,
  parseNetmasks,
  parseStaticRoutes,
  type PhysicalInterface,
  type Warning,
} from './parse.js';

export interface ImportResult {
  yaml: string;
  warnings: Warning[];
}

function maskToPrefix(mask: string): number | undefined {
  if (/^\d+$/.test(mask)) return Number(mask);
  if (/^0x[0-9a-f]{8}$/i.test(mask)) mask = [2, 4, 6, 8].map((i) => parseInt(mask.slice(i, i + 2), 16)).join('.');
  const parts = mask.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) return undefined;
  const bits = parts.map((p) => p.toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
}

/** Read the Solaris files below `root` (root/etc/... or root/...), mapping interface names. */
export function importSolaris(root: string, interfaceMap: Record<string, string> = {}): ImportResult {
  const warnings: Warning[] = [];
  const files = readSolarisFiles(root, warnings);
  const groups = ipmpGroups(files, interfaceMap, warnings);
  const targets = staticRouteTargets(files.etc, files.hosts);
  return { yaml: renderConfig(root, files.defaults, groups, targets), warnings };
}

type MpathdDefaults = ReturnType<typeof parseMpathdDefaults>;

interface SolarisFiles {
  etc: string;
  hosts: Map<string, string>;
  netmasks: Array<{ network: string; mask: string }>;
  defaults: MpathdDefaults;
  physicals: PhysicalInterface[];
}

interface ConvertedGroup {
  interfaces: unknown[];
  data: unknown[];
}

function readSolarisFiles(root: string, warnings: Warning[]): SolarisFiles {
  const etc = existsSync(join(root, 'etc')) ? join(root, 'etc') : root;
  const read = (name: string) => (existsSync(join(etc, name)) ? readFileSync(join(etc, name), 'utf8') : undefined);
  const hosts = parseHosts(read('hosts') ?? read('inet/hosts') ?? '');
  const netmasks = parseNetmasks(read('netmasks') ?? read('inet/netmasks') ?? '');
  const defaultsFile = join(etc, 'default/mpathd');
  const defaults = existsSync(defaultsFile)
    ? parseMpathdDefaults(defaultsFile, readFileSync(defaultsFile, 'utf8'), warnings)
    : {};

  const physicals: PhysicalInterface[] = readdirSync(etc)
    .filter((f) => /^hostname\.[a-z0-9_]+$/i.test(f))
    .sort()
    .map((f) =>
      parseHostnameFile(f.slice('hostname.'.length), join(etc, f), readFileSync(join(etc, f), 'utf8'), warnings),
    );
  if (physicals.length === 0)
    warnings.push({ file: etc, line: 0, message: 'no /etc/hostname.<interface> files found' });
  return { etc, hosts, netmasks, defaults, physicals };
}

/** The IPMP groups of the hostname files: each member with its test addresses, the data addresses it hosts. */
function ipmpGroups(
  files: SolarisFiles,
  interfaceMap: Record<string, string>,
  warnings: Warning[],
): Map<string, ConvertedGroup> {
  const groups = new Map<string, ConvertedGroup>();
  for (const p of files.physicals) {
    if (!p.group) {
      warnings.push({
        file: p.file,
        line: 1,
        message: `${p.name} is in no IPMP group; not tracked (in.mpathd's TRACK_INTERFACES_ONLY_WITH_GROUPS)`,
      });
      continue;
    }
    const g = groups.get(p.group) ?? { interfaces: [], data: [] };
    groups.set(p.group, g);
    const name = interfaceMap[p.name] ?? p.name;
    const tests: string[] = [];
    for (const l of p.logicals) {
      const addr = resolveAddress(files.hosts, p, l.address, l.line, warnings);
      if (!addr) continue;
      const cidr = `${addr}/${prefixLengthOf(files.netmasks, p, addr, l.netmask, l.line, warnings)}`;
      if (!l.failover) {
        if (!l.deprecated && !addr.includes(':'))
          warnings.push({
            file: p.file,
            line: l.line,
            message: `test address ${addr} is -failover but not deprecated; ipmpd keeps test addresses out of source selection anyway`,
          });
        tests.push(cidr);
      } else {
        g.data.push({ address: cidr, preferred_interface: name });
      }
      if (!l.up)
        warnings.push({
          file: p.file,
          line: l.line,
          message: `${addr} is not marked "up"; ipmpd will configure it anyway`,
        });
    }
    g.interfaces.push({
      name,
      ...(tests.length ? { test_address: tests.length === 1 ? tests[0] : tests } : {}),
      ...(p.standby ? { standby: true } : {}),
    });
  }
  return groups;
}

/** An address as written in a hostname file (an address or a name in /etc/hosts), canonical. */
function resolveAddress(
  hosts: Map<string, string>,
  p: PhysicalInterface,
  a: string,
  line: number,
  warnings: Warning[],
): string | undefined {
  const addr = canonicalAddress(a) ?? (hosts.get(a) !== undefined ? canonicalAddress(hosts.get(a)!) : undefined);
  if (!addr) warnings.push({ file: p.file, line, message: `"${a}" is neither an address nor a name in /etc/hosts` });
  return addr;
}

/** The prefix length: the hostname file's netmask, else /etc/netmasks' entry for the address, else /24 with a warning. */
function prefixLengthOf(
  netmasks: SolarisFiles['netmasks'],
  p: PhysicalInterface,
  addr: string,
  netmask: string | undefined,
  line: number,
  warnings: Warning[],
): number {
  if (netmask && netmask !== '+') {
    const n = maskToPrefix(netmask);
    if (n !== undefined) return n;
    warnings.push({ file: p.file, line, message: `netmask "${netmask}" is not understood; /24 assumed` });
    return 24;
  }
  for (const { network, mask } of netmasks) {
    const n = maskToPrefix(mask);
    if (n !== undefined && canonicalAddress(network) && inSubnet(addr, network, n, 4)) return n;
  }
  warnings.push({ file: p.file, line, message: `no /etc/netmasks entry for ${addr}; /24 assumed` });
  return 24;
}

/** Host routes of a static-routes start script name the probe targets (route add host T T). */
function staticRouteTargets(etc: string, hosts: Map<string, string>): string[] {
  const rc = join(etc, 'rc2.d');
  const targets: string[] = [];
  if (!existsSync(rc)) return targets;
  for (const f of readdirSync(rc).sort()) {
    for (const r of parseStaticRoutes(join(rc, f), readFileSync(join(rc, f), 'utf8'))) {
      const t = canonicalAddress(r.target) ?? canonicalAddress(hosts.get(r.target) ?? '');
      if (t && !targets.includes(t)) targets.push(t);
    }
  }
  return targets;
}

function renderConfig(
  root: string,
  defaults: MpathdDefaults,
  groups: Map<string, ConvertedGroup>,
  targets: string[],
): string {
  const config = {
    ...(defaults.fdtMs !== undefined ? { failure_detection_time: formatDuration(defaults.fdtMs) } : {}),
    ...(defaults.failback !== undefined ? { failback: defaults.failback } : {}),
    ...(defaults.trackOnlyGroups !== undefined ? { track_interfaces_only_with_groups: defaults.trackOnlyGroups } : {}),
    groups: [...groups.entries()].map(([name, g]) => ({
      name,
      interfaces: g.interfaces,
      data_addresses: g.data,
      ...(targets.length ? { probe_targets: targets } : {}),
    })),
  };
  const header = [
    `# Converted from the Solaris files in ${root} by ipmpd import-solaris.`,
    ...(targets.length
      ? [
          '# probe_targets come from the host routes of the static-routes start script;',
          '# ipmpd also finds them in the routing table if you add the same host routes on Linux.',
        ]
      : []),
  ];
  return header.map((line) => `${line}\n`).join('') + stringify(config);
}
