// The sysctls that break hosts with several NICs on one subnet (the README's
// "What it does to the host" lists them and why): read, judged, and only
// rewritten when the configuration says so.

import { readFileSync, writeFileSync } from 'node:fs';

export type Severity = 'warn' | 'info';

export interface SysctlFinding {
  sysctl: string;
  value: string;
  want: string;
  severity: Severity;
  message: string;
  /** The exact command that fixes it. */
  fix: string;
}

export type Readings = Record<string, string | undefined>;

/** Read every sysctl the checks need for these interfaces from /proc/sys. */
export function readSysctls(ifnames: readonly string[]): Readings {
  const names = [
    'net.ipv4.icmp_echo_ignore_broadcasts',
    ...['all', ...ifnames].flatMap((d) => [
      `net.ipv4.conf.${d}.arp_ignore`,
      `net.ipv4.conf.${d}.arp_announce`,
      `net.ipv4.conf.${d}.rp_filter`,
      `net.ipv4.conf.${d}.promote_secondaries`,
      `net.ipv4.conf.${d}.arp_filter`,
      `net.ipv4.conf.${d}.drop_gratuitous_arp`,
    ]),
  ];
  const out: Readings = {};
  for (const n of names) {
    try {
      out[n] = readFileSync(`/proc/sys/${n.replaceAll('.', '/')}`, 'utf8').trim();
    } catch {
      out[n] = undefined;
    }
  }
  return out;
}

/**
 * Pure: judge the readings for each group interface. An interface that is not
 * there (no readings) is skipped: the fixes also set `default`, which an
 * interface created later inherits.
 */
export function evaluateSysctls(ifnames: readonly string[], r: Readings): SysctlFinding[] {
  const findings: SysctlFinding[] = [];
  const num = (n: string) => Number(r[n] ?? 0);
  for (const d of ifnames) {
    if (r[`net.ipv4.conf.${d}.arp_ignore`] === undefined) continue;
    const eff = (key: string) => Math.max(num(`net.ipv4.conf.all.${key}`), num(`net.ipv4.conf.${d}.${key}`));
    const add = (key: string, want: string, value: number, message: string) =>
      findings.push({
        sysctl: `net.ipv4.conf.${d}.${key}`,
        value: String(value),
        want,
        severity: 'warn',
        message: `${d}: ${message}`,
        fix: `sysctl -w net.ipv4.conf.all.${key}=${want} net.ipv4.conf.default.${key}=${want} net.ipv4.conf.${d}.${key}=${want}`,
      });
    if (eff('arp_ignore') === 0)
      add(
        'arp_ignore',
        '1',
        0,
        "arp_ignore=0: other NICs answer ARP for this NIC's addresses (ARP flux); probe replies may arrive on the wrong NIC and cause false failures",
      );
    if (eff('arp_announce') < 2)
      add(
        'arp_announce',
        '2',
        eff('arp_announce'),
        "ARP requests from this NIC may advertise another NIC's data address and move it in peers' caches",
      );
    if (eff('rp_filter') === 1)
      add(
        'rp_filter',
        '2',
        1,
        'strict rp_filter drops probe replies on a NIC that holds no data route: it would always look failed',
      );
    if (num(`net.ipv4.conf.all.promote_secondaries`) === 0 && num(`net.ipv4.conf.${d}.promote_secondaries`) === 0) {
      findings.push({
        sysctl: `net.ipv4.conf.${d}.promote_secondaries`,
        value: '0',
        want: '1',
        severity: 'warn',
        message: `${d}: removing a primary address would delete every same-prefix secondary (test addresses among them)`,
        fix: `sysctl -w net.ipv4.conf.default.promote_secondaries=1 net.ipv4.conf.${d}.promote_secondaries=1`,
      });
    }
    if (num(`net.ipv4.conf.all.arp_filter`) === 1 || num(`net.ipv4.conf.${d}.arp_filter`) === 1) {
      findings.push({
        sysctl: `net.ipv4.conf.${d}.arp_filter`,
        value: '1',
        want: '0',
        severity: 'warn',
        message: `${d}: arp_filter=1 without source routing can suppress ARP replies on a standby NIC`,
        fix: `sysctl -w net.ipv4.conf.all.arp_filter=0 net.ipv4.conf.default.arp_filter=0 net.ipv4.conf.${d}.arp_filter=0`,
      });
    }
    if (num(`net.ipv4.conf.${d}.drop_gratuitous_arp`) === 1) {
      findings.push({
        sysctl: `net.ipv4.conf.${d}.drop_gratuitous_arp`,
        value: '1',
        want: '0',
        severity: 'info',
        message: `${d}: this host ignores gratuitous ARP`,
        fix: `sysctl -w net.ipv4.conf.${d}.drop_gratuitous_arp=0`,
      });
    }
  }
  return findings;
}

/** Apply the fixes (only when the configuration says fix_sysctls: true). */
export function applySysctlFixes(findings: readonly SysctlFinding[]): string[] {
  const done = new Set<string>();
  for (const f of findings) {
    if (f.severity !== 'warn') continue;
    for (const assignment of f.fix.replace(/^sysctl -w /, '').split(' ')) {
      if (done.has(assignment)) continue;
      const [name, value] = assignment.split('=');
      try {
        writeFileSync(`/proc/sys/${name!.replaceAll('.', '/')}`, `${value}\n`);
      } catch (err) {
        // the interface went away since the readings: `default` covers it when it returns
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      done.add(assignment);
    }
  }
  return [...done];
}
