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

  const resolve = (p: PhysicalInterface, a: string, line: number): string | undefined => {
    const addr = canonicalAddress(a) ?? (hosts.get(a) !== undefined ? canonicalAddress(hosts.get(a)!) : undefined);
    if (!addr) warnings.push({ file: p.file, line, message: `"${a}" is neither an address nor a name in /etc/hosts` });
    return addr;
  };
  const prefixFor = (p: PhysicalInterface, addr: string, netmask: string | undefined, line: number): number => {
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
  };

  const groups = new Map<string, { interfaces: unknown[]; data: unknown[] }>();
  for (const p of physicals) {
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
      const addr = resolve(p, l.address, l.line);
      if (!addr) continue;
      const cidr = `${addr}/${prefixFor(p, addr, l.netmask, l.line)}`;
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

  // host routes of a static-routes start script name the probe targets (route add host T T)
  const rc = join(etc, 'rc2.d');
  const targets: string[] = [];
  if (existsSync(rc)) {
    for (const f of readdirSync(rc).sort()) {
      for (const r of parseStaticRoutes(join(rc, f), readFileSync(join(rc, f), 'utf8'))) {
        const t = canonicalAddress(r.target) ?? canonicalAddress(hosts.get(r.target) ?? '');
        if (t && !targets.includes(t)) targets.push(t);
      }
    }
  }

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
  const header = `# Converted from the Solaris files in ${root} by ipmpd import-solaris.\n${targets.length ? '# probe_targets come from the host routes of the static-routes start script;\n# ipmpd also finds them in the routing table if you add the same host routes on Linux.\n' : ''}`;
  return { yaml: header + stringify(config), warnings };
}
