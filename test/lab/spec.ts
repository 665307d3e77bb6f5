// Lab description types and their validation. Validation happens before anything is created,
// so a bad spec fails with a message naming the offending field and nothing to clean up.
import { isIP } from 'node:net';

export interface SwitchSpec {
  name: string; // a bridge in its own namespace
}

export interface NicSpec {
  /** interface name inside the host namespace, e.g. 'eth0' */
  name: string;
  /** which switch it plugs into */
  switch: string;
  /** CIDRs, v4 or v6, e.g. '198.18.11.6/24', '2001:db8:11::6/64' */
  addresses?: string[];
  mac?: string;
}

export interface HostSpec {
  /** logical name, e.g. 'ipmp', 'router', 't1', 'client' */
  name: string;
  nics: NicSpec[];
  /** `ip route add` arguments, e.g. 'default via 198.18.11.1' */
  routes?: string[];
  /** enables IPv4 and IPv6 forwarding */
  forwarding?: boolean;
  /** sets net.ipv4.icmp_echo_ignore_broadcasts=0 (Linux ignores pings to 224.0.0.1 by default) */
  answerBroadcastPing?: boolean;
  /** extra sysctls, e.g. {'net.ipv4.conf.all.arp_ignore': '1'} */
  sysctls?: Record<string, string>;
}

export interface LabSpec {
  switches: SwitchSpec[];
  hosts: HostSpec[];
}

const LOGICAL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/;
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/; // kernel IFNAMSIZ is 16 including the NUL
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const SYSCTL_KEY = /^[a-z0-9_]+(\.[A-Za-z0-9_.-]+)+$/;

export function parseCidr(cidr: string): { address: string; prefixLen: number; family: 4 | 6 } | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const address = cidr.slice(0, slash);
  const lenText = cidr.slice(slash + 1);
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const prefixLen = Number(lenText);
  if (prefixLen > (family === 4 ? 32 : 128)) return undefined;
  return { address, prefixLen, family };
}

/** Throws an Error naming the first problem found, e.g. `hosts[2] ("router").nics[0].switch: ...`. */
export function validateLabSpec(spec: LabSpec): void {
  const fail = (where: string, what: string): never => {
    throw new Error(`invalid LabSpec: ${where}: ${what}`);
  };
  if (!spec || !Array.isArray(spec.switches) || !Array.isArray(spec.hosts)) {
    fail('(root)', 'expected { switches: [...], hosts: [...] }');
  }
  const switchNames = new Set<string>();
  spec.switches.forEach((sw, i) => {
    const where = `switches[${i}]`;
    if (typeof sw?.name !== 'string' || !LOGICAL_NAME.test(sw.name)) {
      fail(`${where}.name`, `"${sw?.name}" must be 1-24 letters, digits, '_' or '-'`);
    }
    if (switchNames.has(sw.name)) fail(`${where}.name`, `duplicate switch "${sw.name}"`);
    switchNames.add(sw.name);
  });
  const hostNames = new Set<string>();
  spec.hosts.forEach((host, h) => {
    const where = `hosts[${h}]${typeof host?.name === 'string' ? ` ("${host.name}")` : ''}`;
    if (typeof host?.name !== 'string' || !LOGICAL_NAME.test(host.name)) {
      fail(`${where}.name`, `"${host?.name}" must be 1-24 letters, digits, '_' or '-'`);
    }
    if (hostNames.has(host.name)) fail(`${where}.name`, `duplicate host "${host.name}"`);
    hostNames.add(host.name);
    if (!Array.isArray(host.nics)) fail(`${where}.nics`, 'expected an array');
    const nicNames = new Set<string>();
    host.nics.forEach((nic, n) => {
      const nw = `${where}.nics[${n}]`;
      if (typeof nic?.name !== 'string' || !IFNAME.test(nic.name) || nic.name === 'lo') {
        fail(`${nw}.name`, `"${nic?.name}" is not a usable interface name (max 15 chars, not "lo")`);
      }
      if (nicNames.has(nic.name)) fail(`${nw}.name`, `duplicate NIC "${nic.name}" on host "${host.name}"`);
      nicNames.add(nic.name);
      if (!switchNames.has(nic.switch)) fail(`${nw}.switch`, `unknown switch "${nic.switch}"`);
      (nic.addresses ?? []).forEach((cidr, a) => {
        if (typeof cidr !== 'string' || !parseCidr(cidr)) {
          fail(`${nw}.addresses[${a}]`, `"${cidr}" is not an address/prefix-length CIDR`);
        }
      });
      if (nic.mac !== undefined && !MAC.test(nic.mac)) fail(`${nw}.mac`, `"${nic.mac}" is not a MAC address`);
    });
    (host.routes ?? []).forEach((route, r) => {
      // Each route becomes one line of an ip batch: a newline would smuggle in another command.
      if (typeof route !== 'string' || route.trim() === '' || /[\n\r]/.test(route)) {
        fail(`${where}.routes[${r}]`, `"${route}" is not a single-line 'ip route add' argument list`);
      }
    });
    for (const [key, value] of Object.entries(host.sysctls ?? {})) {
      if (!SYSCTL_KEY.test(key)) fail(`${where}.sysctls`, `"${key}" is not a sysctl name`);
      if (typeof value !== 'string' || /[\n\r]/.test(value)) {
        fail(`${where}.sysctls["${key}"]`, `"${value}" must be a single-line string`);
      }
    }
  });
}
