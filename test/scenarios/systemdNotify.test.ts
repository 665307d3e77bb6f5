// `ipmpd run` under systemd's Type=notify with WatchdogSec=. The test
// plays systemd: a unix datagram socket of its own (python3, as Node has none)
// named in NOTIFY_SOCKET, with WATCHDOG_USEC set. READY=1 must come once, only
// after every member's first verdict; WATCHDOG=1 at half the watchdog time;
// STOPPING=1 on SIGTERM.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

// prints each datagram as a JSON line with its arrival time (ms since the epoch)
const RECEIVER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    data = s.recv(4096)
    print(json.dumps({"t": time.time() * 1000, "msg": data.decode()}), flush=True)
`;

interface Datagram {
  t: number;
  msg: string;
}

function startReceiver(path: string): { child: ChildProcess; datagrams: Datagram[]; bound: Promise<void> } {
  const child = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const datagrams: Datagram[] = [];
  let buf = '';
  const bound = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the notify receiver exited (${code})`)));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'bound') resolve();
        else datagrams.push(JSON.parse(line) as Datagram);
      }
    });
  });
  return { child, datagrams, bound };
}

async function until<T>(what: string, get: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('READY=1 after the first verdict, watchdog pings at half WatchdogSec, STOPPING=1 on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-notify-'));
  const socketPath = join(dir, 'notify.sock');
  const receiver = startReceiver(socketPath);
  let lab: Lab | undefined;
  let ipmpd: IpmpdProcess | undefined;
  try {
    await receiver.bound;
    lab = await Lab.create(twoNicGroup());
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }), {
      env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000' },
    });
    const ready = await until('READY=1', () => receiver.datagrams.find((d) => d.msg.startsWith('READY=1')), 15_000);
    assert.match(ready.msg, /^READY=1\nSTATUS=1 group\(s\) with a first verdict; metrics on 127\.0\.0\.1:9740$/);
    assert.equal((await ipmpd.http('/-/ready')).status, 200);
    // not before both members had their first answered probe (the log's own timestamps)
    const firstAck = (ifname: string) =>
      Date.parse(String(ipmpd!.lines.find((l) => l.event === 'probe_acked' && l.ifname === ifname)?.time));
    const verdictAt = Math.max(firstAck('eth0'), firstAck('eth1'));
    assert.ok(Number.isFinite(verdictAt), 'no probe_acked lines for eth0 and eth1');
    assert.ok(ready.t >= verdictAt, `READY=1 came ${verdictAt - ready.t} ms before the last first verdict`);

    // WATCHDOG_USEC 400 ms: a ping every 200 ms
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const pings = receiver.datagrams.filter((d) => d.msg === 'WATCHDOG=1' && d.t >= from && d.t <= from + 2000);
    assert.ok(pings.length >= 7 && pings.length <= 11, `${pings.length} pings in 2 s`);
    const gaps = pings.slice(1).map((p, i) => p.t - pings[i]!.t);
    assert.ok(Math.max(...gaps) < 400, `a gap of ${Math.max(...gaps)} ms between pings would let the watchdog fire`);
    assert.equal(receiver.datagrams.filter((d) => d.msg.startsWith('READY=1')).length, 1);

    await ipmpd.stop();
    ipmpd = undefined;
    await until('STOPPING=1', () => receiver.datagrams.find((d) => d.msg === 'STOPPING=1'), 5000);
  } finally {
    await ipmpd?.stop();
    await lab?.destroy();
    receiver.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(existsSync(dir), false);
});
