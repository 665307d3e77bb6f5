// The rtnetlink adapter on the real kernel, with a change listener that throws
// on every change. An exception that escapes into the native callback that
// delivered the notification aborts Node ("terminate called after throwing an
// instance of 'Napi::Error'"); an unhandled rejection ends it. The process must
// stay up and keep following the kernel, through link, address, rename and
// route churn.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Lab } from '../lab/lab.js';

const CHILD = fileURLToPath(new URL('./fixtures/kernelViewChild.js', import.meta.url));

interface Report {
  links: string[];
  addresses: string[];
  staticRoutes: number;
  changes: number;
}

let lab: Lab;
before(async () => {
  lab = await Lab.create({
    switches: [{ name: 'lan' }],
    hosts: [
      {
        name: 'h',
        nics: [
          { name: 'eth0', switch: 'lan' },
          { name: 'eth1', switch: 'lan', addresses: ['198.18.97.1/24'] },
        ],
      },
    ],
  });
});
after(async () => {
  await lab?.destroy();
});

function follow(child: ChildProcess): { reports: Report[]; stderr: string[] } {
  const out = { reports: [] as Report[], stderr: [] as string[] };
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      out.reports.push(JSON.parse(buf.slice(0, nl)) as Report);
      buf = buf.slice(nl + 1);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => out.stderr.push(chunk));
  return out;
}

async function until(what: string, cond: () => boolean, timeoutMs: number, detail: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The child, started in the lab host, with what it says. */
async function startChild(): Promise<{
  child: ChildProcess;
  seen: { reports: Report[]; stderr: string[] };
  last: () => Report | undefined;
  detail: () => string;
}> {
  const child = lab.spawn('h', ['node', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
  const seen = follow(child);
  const detail = () =>
    `exit ${child.exitCode} signal ${child.signalCode}\nstderr: ${seen.stderr.join('').slice(-6000)}`;
  await until('the child reports', () => seen.reports.length > 0, 15_000, detail);
  return { child, seen, last: () => seen.reports.at(-1), detail };
}

test(
  'a change listener that throws on every kernel notification: the process stays alive and keeps following the kernel',
  { timeout: 60_000 },
  async () => {
    const { child, seen, last, detail } = await startChild();
    try {
      // churn: carrier, addresses, renames (each a burst of notifications, every one thrown at)
      for (let i = 0; i < 20; i++) {
        await lab.exec('h', ['ip', 'link', 'set', 'eth0', 'down']);
        await lab.exec('h', ['ip', 'link', 'set', 'eth0', 'name', 'eth0x']);
        await lab.exec('h', ['ip', 'addr', 'add', `198.18.99.${i + 1}/24`, 'dev', 'eth0x']);
        await lab.exec('h', ['ip', 'link', 'set', 'eth0x', 'name', 'eth0']);
        await lab.exec('h', ['ip', 'link', 'set', 'eth0', 'up']);
      }
      await lab.exec('h', ['ip', 'addr', 'add', '198.18.98.1/24', 'dev', 'eth0']);
      const reportsBefore = seen.reports.length;
      await until(
        'the child reports the final state',
        () => last()?.addresses.includes('198.18.98.1@eth0') === true && last()?.links.includes('eth0') === true,
        10_000,
        () => `${JSON.stringify(last())}\n${detail()}`,
      );
      await until('it keeps reporting', () => seen.reports.length >= reportsBefore + 3, 5000, detail);
      assert.equal(child.exitCode, null, detail());
      assert.equal(child.signalCode, null, detail());
      assert.ok(last()!.changes > 20, `the listener ran only ${last()!.changes} times`);
      assert.match(seen.stderr.join(''), /a listener of kernel changes failed: listener bug/);
      assert.doesNotMatch(seen.stderr.join(''), /terminate called|Napi::Error/);
    } finally {
      await lab.stopProcess(child);
    }
  },
);

test(
  'route churn beyond the notification buffer while another link flaps, the listener throwing: alive, and its routes end as the kernel has them',
  { timeout: 120_000 },
  async () => {
    const { child, seen, last, detail } = await startChild();
    // table entries only, via eth1's subnet: nothing is ever sent to them
    const prefixes = Array.from({ length: 30_000 }, (_, i) => `198.19.${128 + Math.floor(i / 256)}.${i % 256}/32`);
    const batch = (verb: string, list: string[]) =>
      list.map((p) => `route ${verb} ${p} via 198.18.97.2 dev eth1 proto static`).join('\n') + '\n';
    try {
      const flaps = (async () => {
        for (let i = 0; i < 10; i++) {
          await lab.exec('h', ['ip', 'link', 'set', 'eth0', 'down']);
          await lab.exec('h', ['ip', 'link', 'set', 'eth0', 'up']);
        }
      })();
      await lab.exec('h', ['ip', '-batch', '-'], { input: batch('add', prefixes) });
      await lab.exec('h', ['ip', '-batch', '-'], { input: batch('del', prefixes.slice(0, 10_000)) });
      await lab.exec('h', ['ip', '-batch', '-'], { input: batch('replace', prefixes.slice(10_000, 20_000)) });
      await flaps;
      const want = prefixes.length - 10_000;
      await until(
        `the child sees ${want} static routes`,
        () => last()?.staticRoutes === want,
        30_000,
        () => `${JSON.stringify(last())}\n${detail()}`,
      );
      assert.equal(child.exitCode, null, detail());
      assert.equal(child.signalCode, null, detail());
      assert.doesNotMatch(seen.stderr.join(''), /terminate called|Napi::Error/);
    } finally {
      await lab.stopProcess(child);
      await lab.exec('h', ['ip', 'route', 'flush', 'proto', 'static'], { allowFail: true });
    }
  },
);
