// Runs as root: builds real network namespaces. Every lab made here is destroyed, and the last
// test checks that nothing of this process is left in `ip netns list`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listNamespaces } from './cleanup.js';
import { Lab, sweepStale, withLab, type LabSpec } from './lab.js';
import { startPinger } from './pinger.js';
import { SUN_TOPOLOGIES, TWO_NIC_GROUP, twoNicGroup } from './topologies.js';

const ours = (): string[] => listNamespaces().filter((n) => n.startsWith(`ipmpd-${process.pid}-`));

/** Two hosts on one switch; 'a' has a second NIC on a second switch that nobody else uses. */
const pairSpec: LabSpec = {
  switches: [{ name: 'lan' }, { name: 'spare' }],
  hosts: [
    {
      name: 'a',
      nics: [
        { name: 'eth0', switch: 'lan', addresses: ['198.18.30.1/24', '2001:db8:30::1/64'], mac: '02:00:00:30:00:01' },
        { name: 'eth1', switch: 'spare' },
      ],
    },
    { name: 'b', nics: [{ name: 'eth0', switch: 'lan', addresses: ['198.18.30.2/24', '2001:db8:30::2/64'] }] },
  ],
};

async function carrier(lab: Lab, host: string, nic: string): Promise<string> {
  // `ip netns exec` remounts /sys, so this is the namespace's own view of the NIC.
  return (await lab.exec(host, ['cat', `/sys/class/net/${nic}/carrier`])).stdout.trim();
}

describe('Lab on a two-host pair', () => {
  let lab: Lab;
  before(async () => {
    lab = await Lab.create(pairSpec);
  });
  after(() => lab?.destroy());

  test('comes up with addresses, MAC and v4/v6 reachability across the switch', async (t) => {
    t.diagnostic(`pair lab (2 hosts, 2 switches) created in ${lab.createdInMs.toFixed(0)} ms`);
    assert.equal(lab.ns('a'), `${lab.id}-a`);
    assert.equal(await lab.mac('a', 'eth0'), '02:00:00:30:00:01');
    const addrs = await lab.addresses('a', 'eth0');
    assert.ok(addrs.some((x) => x.cidr === '198.18.30.1/24' && x.family === 4 && x.dev === 'eth0'));
    const v6 = addrs.find((x) => x.cidr === '2001:db8:30::1/64');
    assert.ok(v6, 'v6 address present');
    assert.ok(!v6.flags.includes('tentative'), `no DAD wait, flags: ${v6.flags}`);
    assert.equal(await lab.ping('a', '198.18.30.2'), true);
    assert.equal(await lab.ping('a', '2001:db8:30::2'), true);
    assert.equal(await lab.neighbor('b', '198.18.30.1'), '02:00:00:30:00:01');
    assert.equal(await lab.ping('a', '198.18.30.99', { timeoutMs: 300 }), false, 'nobody has .99');
  });

  test('cutCarrier drops the host NIC carrier; restoreCarrier brings it back', async () => {
    assert.equal(await carrier(lab, 'a', 'eth0'), '1');
    await lab.cutCarrier('a', 'eth0');
    assert.equal(await carrier(lab, 'a', 'eth0'), '0');
    assert.ok(!(await lab.linkFlags('a', 'eth0')).includes('LOWER_UP'));
    assert.ok((await lab.linkFlags('a', 'eth0')).includes('NO-CARRIER'));
    assert.equal(await lab.ping('a', '198.18.30.2', { timeoutMs: 300 }), false);
    await lab.restoreCarrier('a', 'eth0');
    assert.equal(await carrier(lab, 'a', 'eth0'), '1');
    assert.ok((await lab.linkFlags('a', 'eth0')).includes('LOWER_UP'));
    assert.equal(await lab.ping('a', '198.18.30.2', { count: 3, timeoutMs: 1000 }), true);
  });

  test('silentCut keeps the link up but stops traffic; reattach restores it', async () => {
    await lab.silentCut('a', 'eth0');
    assert.equal(await carrier(lab, 'a', 'eth0'), '1', 'carrier stays up');
    assert.equal(await lab.ping('a', '198.18.30.2', { timeoutMs: 300 }), false);
    await lab.reattach('a', 'eth0');
    assert.equal(await lab.ping('a', '198.18.30.2', { count: 3, timeoutMs: 1000 }), true);
  });

  test('setLoss 100 drops everything, 0 restores, 50 one-way loses about half', async () => {
    await lab.setLoss('b', 'eth0', 100);
    assert.equal(await lab.ping('a', '198.18.30.2', { count: 3, intervalMs: 50, timeoutMs: 300 }), false);
    await lab.setLoss('b', 'eth0', 0);
    assert.equal(await lab.ping('a', '198.18.30.2', { count: 3, timeoutMs: 1000 }), true);

    // Only frames towards b are dropped, so ARP between them still resolves at once.
    await lab.setLoss('b', 'eth0', 50, 'in');
    const r = await lab.exec('a', ['ping', '-n', '-q', '-c', '300', '-i', '0.002', '-W', '0.5', '198.18.30.2'], {
      allowFail: true,
    });
    await lab.setLoss('b', 'eth0', 0);
    const received = Number(/(\d+) received/.exec(r.stdout)?.[1]);
    assert.ok(received > 90 && received < 210, `expected about 150 of 300 replies, got ${received}`);
  });

  test('setLoss rejects bad input with a message naming it', async () => {
    await assert.rejects(lab.setLoss('b', 'eth0', 101), /percent must be 0\.\.100/);
    await assert.rejects(lab.setLoss('b', 'eth9', 10), /host "b" has no NIC "eth9"/);
    await assert.rejects(lab.setLoss('zz', 'eth0', 10), /unknown host "zz"/);
  });

  test('silenceHost stops all replies (ARP included); unsilenceHost restores them', async () => {
    const arping = ['arping', '-c', '1', '-I', 'eth0', '198.18.30.2']; // exit 0 only on a reply
    await lab.silenceHost('b');
    try {
      assert.equal(await lab.ping('a', '198.18.30.2', { timeoutMs: 300 }), false);
      assert.notEqual((await lab.exec('a', arping, { allowFail: true })).code, 0, 'b must not answer ARP');
    } finally {
      await lab.unsilenceHost('b');
    }
    await lab.unsilenceHost('b'); // idempotent
    assert.equal(await lab.ping('a', '198.18.30.2', { count: 3, timeoutMs: 1000 }), true);
    assert.equal((await lab.exec('a', arping, { allowFail: true })).code, 0, 'b answers ARP again');
  });

  test('the pinger measures a silent cut of 500 ms', async (t) => {
    const pinger = startPinger(lab, 'a', '198.18.30.2', 1);
    await pinger.waitForReply(Date.now(), 2000);
    await sleep(200);
    // The outage surely covered [cutDone, reattachStart] and lay within [cutStart, reattachedAt];
    // bounding it both ways keeps the assertions independent of how long `ip` takes to run.
    const cutStart = Date.now();
    await lab.silentCut('b', 'eth0');
    const cutDone = Date.now();
    await sleep(500);
    const reattachStart = Date.now();
    await lab.reattach('b', 'eth0');
    const reattachedAt = Date.now();
    const recoveredAt = await pinger.waitForReply(reattachedAt, 2000);
    await sleep(200);
    const result = await pinger.stop();
    const surelyCutMs = reattachStart - cutDone;
    const atMostCutMs = reattachedAt - cutStart;
    t.diagnostic(
      `cut ${surelyCutMs}..${atMostCutMs} ms, measured gap ${result.longestGapMs.toFixed(1)} ms, ` +
        `${result.replies.length} replies, first reply ${(recoveredAt - reattachedAt).toFixed(1)} ms after reattach`,
    );
    assert.ok(result.replies.length > 200, `1 ms pinging yields many replies, got ${result.replies.length}`);
    assert.ok(result.longestGapMs >= surelyCutMs - 50, `gap ${result.longestGapMs} vs cut >= ${surelyCutMs}`);
    assert.ok(result.longestGapMs < atMostCutMs + 1000, `gap ${result.longestGapMs} vs cut <= ${atMostCutMs}`);
    assert.ok(
      result.longestGapStart! <= cutDone && result.longestGapEnd! >= reattachStart,
      'the longest gap is the cut',
    );
    assert.equal(result.firstReplyAfter(reattachedAt), recoveredAt);
  });
});

test('the two-NIC seed lab comes up fast; router and targets answer 224.0.0.1, the client does not', async (t) => {
  await withLab(twoNicGroup(), async (lab) => {
    t.diagnostic(`twoNicGroup lab (6 namespaces) created in ${lab.createdInMs.toFixed(0)} ms`);
    assert.ok(lab.createdInMs < 2000, `creation took ${lab.createdInMs} ms`);
    assert.equal(lab.namespaces().length, 6);
    const responders = await lab.pingResponders('client', '224.0.0.1', { dev: 'eth0' });
    assert.deepEqual(responders, ['198.18.11.1', '198.18.11.21', '198.18.11.22']);
    // The IPMP host is left for ipmpd: NICs up, link-local only.
    const ipmpAddrs = await lab.addresses('ipmp');
    assert.deepEqual([...new Set(ipmpAddrs.map((a) => a.dev))].sort(), ['eth0', 'eth1']);
    assert.ok(
      ipmpAddrs.every((a) => a.scope === 'link'),
      JSON.stringify(ipmpAddrs),
    );
    assert.equal(await lab.ping('client', TWO_NIC_GROUP.router!), true);
    assert.equal(await lab.ping('client', '2001:db8:11::1'), true);
  });
});

test('every Sun topology builds; multicast sections have five responders', async (t) => {
  for (const [section, { build, plan }] of Object.entries(SUN_TOPOLOGIES)) {
    await withLab(build(), async (lab) => {
      t.diagnostic(`Sun ${section}: ${lab.namespaces().length} namespaces in ${lab.createdInMs.toFixed(0)} ms`);
      const subnet = plan.nics[0]!.test.split('.').slice(0, 3).join('.');
      let source = plan.client;
      if (!plan.client.startsWith(`${subnet}.`)) {
        // Section 2: a throwaway address puts the client on the test subnet (gone with the lab).
        source = `${subnet}.51`;
        await lab.exec('client', ['ip', 'addr', 'add', `${source}/24`, 'dev', 'eth0']);
      }
      for (const target of [...plan.targets, ...plan.expectedProbeTargets]) {
        assert.equal(await lab.ping('client', target), true, `${section}: client -> ${target}`);
      }
      assert.equal(
        await lab.ping('client', plan.data[0]!.split('/')[0]!, { timeoutMs: 200 }),
        false,
        'data address not configured by the lab',
      );
      if (section === '1.2' || section === '2.2') {
        const responders = await lab.pingResponders('client', '224.0.0.1', { source });
        const onSubnet = responders.filter((r) => r.startsWith(`${subnet}.`));
        assert.deepEqual(onSubnet, plan.targets, `${section} responders`);
      }
    });
  }
});

test('a bad spec fails before anything is created, naming the field', async () => {
  const before = ours().length;
  await assert.rejects(
    Lab.create({ switches: [{ name: 'lan' }], hosts: [{ name: 'r', nics: [{ name: 'eth0', switch: 'wan' }] }] }),
    /hosts\[0\] \("r"\)\.nics\[0\]\.switch: unknown switch "wan"/,
  );
  await assert.rejects(
    Lab.create({
      switches: [{ name: 'lan' }],
      hosts: [{ name: 'r', nics: [{ name: 'eth0', switch: 'lan', addresses: ['198.18.0.1'] }] }],
    }),
    /nics\[0\]\.addresses\[0\]: "198\.18\.0\.1" is not an address\/prefix-length CIDR/,
  );
  assert.equal(ours().length, before);
});

test('destroy removes every namespace and kills spawned processes; twice is fine', async () => {
  const lab = await Lab.create(pairSpec);
  const names = lab.namespaces();
  assert.ok(names.every((n) => listNamespaces().includes(n)));
  const sleeper = lab.spawn('b', ['sh', '-c', 'sleep 300 & wait'], { stdio: 'ignore' });
  const exited = once(sleeper, 'exit');
  await lab.destroy();
  await lab.destroy();
  await exited;
  assert.deepEqual(
    names.filter((n) => listNamespaces().includes(n)),
    [],
  );
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`a process holding a lab and killed by ${signal} leaves nothing behind`, async () => {
    const script = fileURLToPath(new URL('./fixtures/lab-child.js', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const firstLine = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const { namespaces, sleeperPid } = JSON.parse(firstLine[0]) as { namespaces: string[]; sleeperPid: number };
    assert.equal(namespaces.length, 3);
    assert.ok(
      namespaces.every((n) => listNamespaces().includes(n)),
      'lab exists while the child runs',
    );
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill(signal);
    const [code, gotSignal] = await exited;
    assert.equal(gotSignal, signal, `child should die by ${signal} (code ${code})`);
    assert.deepEqual(
      namespaces.filter((n) => listNamespaces().includes(n)),
      [],
    );
    assert.equal(processAlive(sleeperPid), false, 'the process spawned in the lab was killed');
  });
}

test('sweepStale removes namespaces of dead processes only', async () => {
  const deadPid = spawnSync('true').pid!;
  const stale = `ipmpd-${deadPid}-dead-x`;
  const mine = `ipmpd-${process.pid}-live-x`;
  spawnSync('ip', ['netns', 'add', stale]);
  spawnSync('ip', ['netns', 'add', mine]);
  try {
    const removed = await sweepStale();
    assert.ok(removed.includes(stale), `removed ${removed}`);
    assert.ok(!listNamespaces().includes(stale));
    assert.ok(listNamespaces().includes(mine), 'a live pid keeps its namespaces');
  } finally {
    spawnSync('ip', ['netns', 'del', mine]);
    spawnSync('ip', ['netns', 'del', stale]);
  }
});

test('no namespace of this process is left', async () => {
  // Runs last; the pair lab of the describe block above was destroyed by its after() hook.
  assert.deepEqual(ours(), []);
});

function processAlive(pid: number): boolean {
  try {
    // A zombie still answers kill(0); it is dead for our purpose.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return false;
  }
}
