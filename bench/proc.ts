// What a process costs, read from /proc: CPU time with nanosecond resolution
// (schedstat, summed over all its threads, so Node's and Go's helper threads
// count) and resident memory.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Nanoseconds on CPU so far, all threads of `pid`. */
export function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return total;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Install Debian packages the benchmark compares against, when missing (root, apt-get). */
export function ensureDebianPackages(packages: Record<string, string>): void {
  const missing = Object.entries(packages)
    .filter(([binary]) => {
      try {
        execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
        return false;
      } catch {
        return true;
      }
    })
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  process.stderr.write(`installing ${missing.join(' ')} (apt-get)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
