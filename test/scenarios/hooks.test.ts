// Hooks on the real kernel: hooks and a webhook hear of a carrier
// cut (interface_failed, group_state, address_moved, in that order, with the
// right fields), a hook sleeping past its timeout is killed and counted, a
// failing one is counted, and the failover takes as long as without hooks.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from './ipmpd.js';
import { parseSamples, total } from './metricsText.js';

const WEBHOOK = fileURLToPath(new URL('./fixtures/webhook.js', import.meta.url));
const moved = (to: string, since: number) => (l: LogLine) =>
  l.event === 'address_moved' && l.to === to && l.at >= since;

interface Recorded {
  json: Record<string, string>;
  env: Record<string, string>;
}

test('hooks and a webhook on a carrier cut: fields, order, timeout and failure counted, failover time unchanged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-hooks-lab-'));
  const lab = await Lab.create(twoNicGroup());
  let ipmpd: IpmpdProcess | undefined;
  const receiver = lab.spawn('ipmp', ['node', WEBHOOK, '9096']);
  const posted: Array<{ path: string; body: Record<string, string> }> = [];
  let buf = '';
  receiver.stdout!.setEncoding('utf8');
  receiver.stdout!.on('data', (c: string) => {
    buf += c;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      posted.push(JSON.parse(buf.slice(0, nl)) as { path: string; body: Record<string, string> });
      buf = buf.slice(nl + 1);
    }
  });
  try {
    const record = join(dir, 'record.sh');
    const events = join(dir, 'events');
    // one line of stdin, then the IPMP_ environment as a second line
    writeFileSync(
      record,
      `#!/bin/sh\nhead -n 1 >> ${events}\nenv | grep '^IPMP_' | sort | tr '\\n' '\\t' >> ${events}\necho >> ${events}\n`,
    );
    writeFileSync(join(dir, 'sleep.sh'), '#!/bin/sh\nsleep 30\n');
    writeFileSync(join(dir, 'fail.sh'), '#!/bin/sh\necho "cloud API said no" >&2\nexit 2\n');
    for (const f of ['record.sh', 'sleep.sh', 'fail.sh']) chmodSync(join(dir, f), 0o755);
    const hooks = `hooks:
  - command: ["${record}"]
  - command: ["${join(dir, 'sleep.sh')}"]
    timeout: 1s
  - command: ["${join(dir, 'fail.sh')}"]
    events: [interface_failed]
webhooks:
  - url: http://127.0.0.1:9096/ipmp
`;
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
    await ipmpd.waitFor('the first placement', moved('eth0', 0), 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    await ipmpd.waitFor('eth1 answered', (l) => l.event === 'probe_acked' && l.ifname === 'eth1', 15_000);

    // without hooks: the failover time to compare with
    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    const plain = await ipmpd.waitFor('the move to eth1', moved('eth1', t0), 5000);
    await lab.restoreCarrier('ipmp', 'eth0');
    await ipmpd.waitFor('the failback', moved('eth0', t0), 15_000);

    // the same with hooks (a reload adds them; a hook start never competes with a move)
    writeFileSync(
      join(ipmpd.dir, 'ipmpd.yaml'),
      `admin_socket: ${ipmpd.adminSocket}\n${twoNicYaml({ fdt: '1s', extra: hooks })}`,
    );
    const t1 = Date.now();
    ipmpd.child.kill('SIGHUP');
    await ipmpd.waitFor('the reload', (l) => l.event === 'config_reloaded' && l.at >= t1, 10_000);
    await new Promise((r) => setTimeout(r, 1000)); // as settled as before the first cut
    const t2 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    const hooked = await ipmpd.waitFor('the move to eth1 with hooks', moved('eth1', t2), 5000);
    const plainMs = plain.duration_ms as number;
    const hookedMs = hooked.duration_ms as number;
    t.diagnostic(`failover duration: ${plainMs} ms without hooks, ${hookedMs} ms with hooks`);
    assert.ok(
      hookedMs <= Math.max(3 * plainMs, plainMs + 25),
      `the failover took ${hookedMs} ms with hooks, ${plainMs} ms without`,
    );

    // the recording hook: interface_failed, group_state, address_moved, in order, with their fields
    await ipmpd.waitFor(
      'the record of address_moved',
      (l) => l.event === 'hook_run' && l.hook === record && l.hook_event === 'address_moved',
      10_000,
    );
    const lines = readFileSync(events, 'utf8').trim().split('\n');
    const recorded: Recorded[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      recorded.push({
        json: JSON.parse(lines[i]!) as Record<string, string>,
        env: Object.fromEntries(
          lines[i + 1]!.split('\t')
            .filter(Boolean)
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        ),
      });
    }
    assert.deepEqual(
      recorded.map((r) => r.json.event),
      ['interface_failed', 'group_state', 'address_moved'],
    );
    const [failed, state, move] = recorded as [Recorded, Recorded, Recorded];
    assert.deepEqual(
      { ...failed.json, timestamp: '' },
      {
        event: 'interface_failed',
        group: 'unrealgrp1',
        interface: 'eth0',
        reason: 'link',
        state: 'failed',
        timestamp: '',
      },
    );
    assert.deepEqual(
      { ...state.json, timestamp: '' },
      { event: 'group_state', group: 'unrealgrp1', state: 'degraded', timestamp: '' },
    );
    assert.deepEqual(
      { ...move.json, timestamp: '' },
      {
        event: 'address_moved',
        group: 'unrealgrp1',
        interface: 'eth1',
        address: '198.18.11.5',
        from: 'eth0',
        to: 'eth1',
        reason: 'link',
        timestamp: '',
      },
    );
    for (const r of recorded) {
      // the environment says the same as the JSON
      const fromJson = Object.fromEntries(Object.entries(r.json).map(([k, v]) => [`IPMP_${k.toUpperCase()}`, v]));
      assert.deepEqual(r.env, fromJson);
      assert.match(r.json.timestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.ok(Math.abs(Date.parse(r.json.timestamp!) - t2) < 5000);
    }

    // the webhook got the same JSON, in the same order
    await waitFor(() => posted.length >= 3, 'three webhook posts', 10_000);
    assert.deepEqual(
      posted.slice(0, 3).map((p) => p.path),
      ['/ipmp', '/ipmp', '/ipmp'],
    );
    assert.deepEqual(
      posted.slice(0, 3).map((p) => p.body),
      recorded.map((r) => r.json),
    );

    // the sleeping hook is killed after 1 s, once per event, and counted; the failing one is counted with its stderr
    await ipmpd.waitFor(
      'the sleeping hook killed thrice',
      () => ipmpd!.events('hook_run').filter((l) => l.result === 'timeout').length >= 3,
      10_000,
    );
    const timeouts = ipmpd.events('hook_run').filter((l) => l.result === 'timeout');
    assert.ok(
      timeouts.every(
        (l) => (l.duration_ms as number) >= 1000 && (l.duration_ms as number) < 2000 && l.signal === 'SIGKILL',
      ),
    );
    assert.ok(timeouts[0]!.at - hooked.at >= 900, 'the failover waited for the sleeping hook');
    // no hook process started before the move was done (pino's own clock, in ms)
    const movedAt = Date.parse(hooked.time as string);
    for (const run of ipmpd.events('hook_run').filter((l) => l.at >= t2)) {
      const startedAt = Date.parse(run.time as string) - (run.duration_ms as number);
      assert.ok(
        startedAt >= movedAt - 1,
        `${String(run.hook)} for ${String(run.hook_event)} started ${movedAt - startedAt} ms before the address moved`,
      );
    }
    const failure = await ipmpd.waitFor(
      'the failing hook',
      (l) => l.event === 'hook_run' && l.result === 'failed',
      5000,
    );
    assert.equal(failure.exit_code, 2);
    assert.deepEqual(failure.stderr, ['cloud API said no']);
    const metrics = parseSamples((await ipmpd.http('/metrics')).body);
    assert.equal(total(metrics, 'ipmp_hook_runs_total', { hook: join(dir, 'sleep.sh'), result: 'timeout' }), 3);
    assert.equal(total(metrics, 'ipmp_hook_runs_total', { hook: join(dir, 'fail.sh'), result: 'failed' }), 1);
    assert.equal(total(metrics, 'ipmp_hook_runs_total', { hook: record, result: 'ok' }), 3);
    assert.equal(
      total(metrics, 'ipmp_webhook_posts_total', { webhook: 'http://127.0.0.1:9096/ipmp', result: 'ok' }),
      3,
    );
    const sleepers = await lab.exec('ipmp', ['pgrep', '-f', join(dir, 'sleep.sh')], { allowFail: true });
    assert.equal(sleepers.stdout.trim(), '', 'a killed hook is still running');

    // repair: interface_repaired (by probes) and the failback reach the hook too
    const t3 = Date.now();
    await lab.restoreCarrier('ipmp', 'eth0');
    await ipmpd.waitFor('the failback', moved('eth0', t3), 15_000);
    await ipmpd.waitFor(
      'the failback recorded',
      (l) => l.event === 'hook_run' && l.hook === record && l.hook_event === 'address_moved' && l.at >= t3,
      10_000,
    );
    const after = readFileSync(events, 'utf8')
      .trim()
      .split('\n')
      .filter((_, i) => i % 2 === 0)
      .slice(3)
      .map((l) => JSON.parse(l) as Record<string, string>);
    assert.deepEqual(
      after.map((e) => [e.event, e.interface, e.reason, e.state]),
      [
        ['interface_repaired', 'eth0', 'probe', 'ok'],
        ['group_state', undefined, undefined, 'ok'],
        ['address_moved', 'eth0', 'failback', undefined],
      ],
    );
  } finally {
    await ipmpd?.stop();
    await lab.stopProcess(receiver).catch(() => undefined);
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
