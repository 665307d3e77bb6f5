// The kernel view survives what a busy host throws at it: a burst of route changes
// that overflows the notification socket (ENOBUFS) is a re-read, never the end of
// the process (the netlink package's reader aborted Node here: Napi::Error), and
// afterwards the view matches the kernel's table.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { loadTable } from '../lab/routeLoad.js';
import { twoNicGroup } from '../lab/topologies.js';

const CHILD = fileURLToPath(new URL('./fixtures/rtnlChild.js', import.meta.url));

interface Report {
  resyncs: number;
  errors: number;
  static: number;
  gateways: string[];
  kept: number;
}

async function withChild(
  lab: Lab,
  bufferBytes: number,
  run: (report: () => Promise<Report>) => Promise<void>,
): Promise<void> {
  const child = lab.spawn('ipmp', ['node', CHILD, String(bufferBytes)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`the adapter's process ended (exit ${child.exitCode}, signal ${child.signalCode})`);
    return r.value;
  };
  try {
    assert.equal(await next(), 'ready');
    await run(async () => {
      child.stdin!.write('report\n');
      return JSON.parse(await next()) as Report;
    });
    child.stdin!.write('exit\n');
    await once(child, 'exit');
    assert.equal(child.exitCode, 0);
  } finally {
    await lab.stopProcess(child);
  }
}

test('a burst that overflows the notification buffer: logged, re-read, the view right, the process alive', async () => {
  const lab = await Lab.create(twoNicGroup());
  try {
    await lab.exec('ipmp', ['ip', 'addr', 'add', '198.18.11.5/24', 'dev', 'eth0']);
    const table = { bgp4: 20_000, bgp6: 5000, static4: 500, gateway: '198.18.11.1' };
    // a tiny buffer (the kernel's minimum): the burst cannot fit
    await withChild(lab, 4096, async (report) => {
      const before = await report();
      assert.equal(before.static, 0);
      await loadTable(lab, 'ipmp', table);
      let after = await report();
      const end = Date.now() + 15_000;
      while (after.static !== table.static4 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 200));
        after = await report();
      }
      assert.ok(after.resyncs >= 1, `no re-read after the overflow: ${JSON.stringify(after)}`);
      assert.equal(
        after.static,
        table.static4,
        `static routes in the view after the re-read: ${JSON.stringify(after)}`,
      );
      assert.deepEqual(after.gateways, ['198.18.11.1 eth0 /32'], 'the bgp routes counted under their gateway');
      assert.equal(after.kept, before.kept + table.bgp4 + table.static4);
    });
    // the default buffer holds such a burst: no re-read needed, same view
    await withChild(lab, 0, async (report) => {
      const first = await report();
      assert.equal(
        first.kept,
        table.bgp4 + table.static4 + 1,
        'the table as read at start (with the data subnet route)',
      );
      await lab.exec('ipmp', ['ip', 'route', 'flush', 'proto', 'bgp']);
      let start = await report();
      for (let i = 0; i < 50 && start.kept !== table.static4 + 1; i++) {
        await new Promise((r) => setTimeout(r, 100));
        start = await report();
      }
      assert.equal(start.kept, table.static4 + 1, 'a flush of the bgp routes followed');
      await loadTable(lab, 'ipmp', { ...table, bgp6: 0, static4: 0 });
      await new Promise((r) => setTimeout(r, 1000));
      const after = await report();
      assert.equal(after.resyncs, 0);
      assert.equal(after.kept, start.kept + table.bgp4);
    });
  } finally {
    await lab.destroy();
  }
});
