// Big routing tables and route churn for a lab host, as a BGP-speaking host or a
// Kubernetes node has them: table entries only, inside 198.18.0.0/15 and
// 2001:db8::/32, away from the lab's own subnets (198.18.128.0/17,
// 198.19.128.0/17, 198.19.64.0/22, 2001:db8:8000::/33). Nothing ever sends a
// packet to them.

import type { ChildProcess } from 'node:child_process';
import type { Lab } from './lab.js';

/** Distinct prefixes in 198.18.128.0/17 + 198.19.128.0/17: every length from /32 to /17. */
const V4_PREFIXES = 2 ** 17 - 2; // 2^16 /32s + 2^15 /31s + ... + 2 /17s

/** The i-th IPv4 route: a prefix (longest first) and a metric, so that 200,000 routes fit. */
export function ipv4Route(i: number): { prefix: string; metric: number } {
  let k = i % V4_PREFIXES;
  let len = 32;
  while (k >= 2 ** (len - 16)) {
    k -= 2 ** (len - 16);
    len--;
  }
  const offset = k * 2 ** (32 - len); // within the two /17s, 65536 addresses
  const second = offset >= 32768 ? 1 : 0;
  const within = offset % 32768;
  return {
    prefix: `198.${18 + second}.${128 + (within >> 8)}.${within & 255}/${len}`,
    metric: Math.floor(i / V4_PREFIXES) * 10,
  };
}

/** The i-th IPv6 prefix: /64s in 2001:db8:8000::/33. */
export function ipv6Prefix(i: number): string {
  return `2001:db8:${(0x8000 + (i >> 16)).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
}

export interface TableSpec {
  /** IPv4 routes of origin bgp via `gateway`. */
  bgp4: number;
  /** IPv6 blackhole routes of origin bgp. */
  bgp6: number;
  /** IPv4 /32 routes of origin static via `gateway` in 198.19.64.0/22: they must follow the address. */
  static4: number;
  gateway: string;
}

export function staticPrefix(i: number): string {
  return `198.19.${64 + (i >> 8)}.${i & 255}/32`;
}

/** Adds the table with `ip -batch` (fast: one process, one netlink socket). */
export async function loadTable(lab: Lab, host: string, t: TableSpec): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < t.bgp4; i++) {
    const r = ipv4Route(i);
    lines.push(`route add ${r.prefix} via ${t.gateway} proto bgp metric ${r.metric}`);
  }
  for (let i = 0; i < t.static4; i++)
    lines.push(`route add ${staticPrefix(i)} via ${t.gateway} proto static metric 50 mtu 1400`);
  for (let i = 0; i < t.bgp6; i++) lines.push(`route add blackhole ${ipv6Prefix(i)} proto bgp`);
  // in slices: one giant stdin is fine for ip, but not for the test's memory
  for (let at = 0; at < lines.length; at += 200_000)
    await lab.exec(host, ['ip', '-batch', '-'], {
      input: `${lines.slice(at, at + 200_000).join('\n')}\n`,
      timeoutMs: 600_000,
    });
}

export interface Churn {
  /** Changes written so far. */
  readonly written: number;
  stop(): Promise<void>;
}

/**
 * Route changes at `perSecond` (adds, replaces and deletes, both families) on the
 * table's bgp routes, through one `ip -force -batch -` fed every 50 ms.
 */
export function startChurn(lab: Lab, host: string, t: TableSpec, perSecond: number): Churn {
  const child: ChildProcess = lab.spawn(host, ['ip', '-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'ignore'] });
  let n = 0;
  const step = (): string => {
    const k = n++;
    const op = k % 4;
    if (op === 3 && t.bgp6 > 0) {
      const p = ipv6Prefix((k * 7919) % t.bgp6);
      return (k >> 2) % 2 === 0 ? `route del blackhole ${p} proto bgp` : `route add blackhole ${p} proto bgp`;
    }
    // delete a route, add it back, and replace another (same prefix and metric: in place)
    const r = ipv4Route((k * 104_729) % Math.max(1, t.bgp4));
    const route = `${r.prefix} via ${t.gateway} proto bgp metric ${r.metric}`;
    if (op === 0) return `route replace ${route}`;
    if (op === 1) return `route del ${route}`;
    return `route add ${route}`;
  };
  const perTick = Math.max(1, Math.round(perSecond / 20));
  const timer = setInterval(() => {
    if (!child.stdin?.writable) return;
    const lines: string[] = [];
    for (let i = 0; i < perTick; i++) lines.push(step());
    child.stdin.write(`${lines.join('\n')}\n`);
  }, 50);
  child.stdin?.on('error', () => undefined); // ip exits when the lab goes: nothing left to write to
  return {
    get written() {
      return n;
    },
    async stop() {
      clearInterval(timer);
      child.stdin?.end();
      await lab.stopProcess(child);
    },
  };
}
