// ipmpd.1 from the CLI's own --help texts, so the man page never disagrees
// with the command. Usage: node manpage.mjs path/to/main.js VERSION
import { execFileSync } from 'node:child_process';

const [main, version] = process.argv.slice(2);
const help = (...args) => execFileSync(process.execPath, [main, ...args, '--help'], { encoding: 'utf8' });
// roff: a backslash, and a line starting with . or ', must be escaped
const roff = (text) =>
  text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');

const top = help();
const commands = [...top.matchAll(/^ {2}([a-z][a-z-]+)(?: \[options\]| <[^>]+>| \S+)*\s{2,}/gm)].map((m) => m[1]).filter((c) => c !== 'help');
const out = [
  `.TH IPMPD 1 "" "ipmpd ${version}" "User Commands"`,
  '.SH NAME',
  'ipmpd \\- IP multipathing for Linux (in.mpathd) as a Prometheus exporter',
  '.SH SYNOPSIS',
  '.B ipmpd',
  '.I command',
  '[\\fIoptions\\fR]',
  '.SH DESCRIPTION',
  'ipmpd groups NICs, probes targets from each NIC\'s test address, declares a NIC failed on carrier loss or lost probes, and moves the group\'s data addresses to a healthy NIC, as Solaris in.mpathd does. It exports what it knows as Prometheus metrics.',
  '.SH OPTIONS',
  '.nf',
  roff(top.trim()),
  '.fi',
];
for (const c of commands) out.push(`.SS ipmpd ${c}`, '.nf', roff(help(c).trim()), '.fi');
out.push(
  '.SH FILES',
  '.TP',
  '.I /etc/ipmpd/ipmpd.yaml',
  'the configuration (no groups as installed)',
  '.TP',
  '.I /run/ipmpd/admin.sock',
  'the admin socket (root only)',
  '.TP',
  '.I /run/ipmpd/status.sock',
  'the read\\-only status socket for ipmpd stat',
  '.TP',
  '.I /usr/share/ipmpd',
  'alerting rules, Grafana dashboards, runbook, example configurations',
  '.SH SEE ALSO',
  '.BR systemctl (1),',
  '.BR ip (8)',
  '',
);
process.stdout.write(out.join('\n'));
