// A member NIC renamed while it holds the data address (`ip link set eth0 down;
// ip link set eth0 name eth0x; ip link set eth0x up`, as udev, an administrator or
// a driver reload do). The configuration names the members, so the renamed NIC has
// left the group: the address moves to eth1 and comes off the renamed NIC (deleted
// by its index). Before, ipmpd failed with "deleting 198.18.11.5/24 from eth0: no
// interface named eth0" and the address stayed on both NICs.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from './ipmpd.js';

const DATA = '198.18.11.5';
const DATA6 = '2001:db8:11::5';

type Holders = Map<string, string[]>;

const holdersNow = (lab: Lab): Promise<Holders> => lab.holdersOf('ipmp', [DATA, DATA6]);

const describeHolders = (h: Holders) => [...h].map(([a, devs]) => `${a}@${devs.join('+') || 'nowhere'}`).join(' ');

/** Down, rename, up: the kernel renames only a NIC that is down. */
async function rename(lab: Lab, from: string, to: string): Promise<void> {
  await lab.exec('ipmp', ['ip', '-batch', '-'], {
    input: `link set ${from} down\nlink set ${from} name ${to}\nlink set ${to} up\n`,
  });
}

/**
 * Samples where the data addresses are until stopped. An address seen on two NICs in
 * two samples in a row was on both for longer than the instant of a move.
 */
function sampleDoubles(lab: Lab): { stop(): Promise<string[]> } {
  let running = true;
  const doubles: string[] = [];
  const done = (async () => {
    let previous: Holders = new Map();
    while (running) {
      const h = await holdersNow(lab).catch(() => undefined);
      if (h) {
        for (const [a, devs] of h)
          if (devs.length > 1 && (previous.get(a)?.length ?? 0) > 1)
            doubles.push(`${new Date().toISOString()} ${a} on ${devs.join(' and ')}`);
        previous = h;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return doubles;
    },
  };
}

async function waitForHolders(lab: Lab, want: string, timeoutMs: number): Promise<Holders> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const h = await holdersNow(lab);
    if ([...h.values()].every((devs) => devs.length === 1 && devs[0] === want)) return h;
    if (Date.now() > end)
      throw new Error(`after ${timeoutMs} ms: ${describeHolders(h)} (want every data address on ${want} alone)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a member NIC renamed while it holds the data address', { concurrency: false }, () => {
  let lab: Lab;
  let ipmpd: IpmpdProcess;

  before(async () => {
    lab = await Lab.create(twoNicGroup());
    ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s', data6: `${DATA6}/64` }));
    await ipmpd.waitFor('the first placement', (l) => l.event === 'address_moved' && l.to === 'eth0', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    await waitForHolders(lab, 'eth0', 10_000);
    const acked = (ifname: string) => (l: LogLine) => l.event === 'probe_acked' && l.ifname === ifname;
    await ipmpd.waitFor('a probe answer on eth0', acked('eth0'), 15_000);
    await ipmpd.waitFor('a probe answer on eth1', acked('eth1'), 15_000);
  });
  after(async () => {
    await ipmpd?.stop();
    await lab?.destroy();
  });

  test('eth0 renamed to eth0x: the address moves to eth1 and comes off eth0x; never on two NICs beyond a move', async () => {
    const sampler = sampleDoubles(lab);
    const t0 = Date.now();
    await rename(lab, 'eth0', 'eth0x');
    let settled: Holders;
    try {
      settled = await waitForHolders(lab, 'eth1', 5000);
      await new Promise((r) => setTimeout(r, 2000)); // and it stays that way
    } finally {
      const doubles = await sampler.stop();
      assert.deepEqual(doubles, [], `on two NICs for longer than a move: ${doubles.slice(0, 5).join('; ')}`);
    }
    assert.deepEqual(await holdersNow(lab), settled);
    const errors = ipmpd.lines.filter((l) => l.at >= t0 && l.level === 'error' && l.event !== 'interface_failed'); // eth0's link went down: that one is expected
    assert.deepEqual(
      errors.map((l) => l.msg),
      [],
    );
    assert.ok(
      ipmpd.lines.some((l) => l.at >= t0 && l.event === 'interface_vanished' && l.interface === 'eth0'),
      'eth0 was not reported as gone',
    );
    // the renamed NIC is still there and up, with its own test address, but holds no data address
    assert.ok((await lab.linkFlags('ipmp', 'eth0x')).includes('UP'));
    assert.deepEqual(
      (await lab.addresses('ipmp', 'eth0x')).filter((a) => a.family === 4).map((a) => a.cidr),
      ['198.18.11.6/24'],
    );
  });

  test('renamed back to eth0: it is a member again and the address fails back to it, on exactly one NIC', async () => {
    const sampler = sampleDoubles(lab);
    const t0 = Date.now();
    await rename(lab, 'eth0x', 'eth0');
    try {
      await ipmpd.waitFor(
        'the failback to eth0',
        (l) => l.event === 'address_moved' && l.to === 'eth0' && l.at >= t0,
        20_000,
      );
      await waitForHolders(lab, 'eth0', 5000);
    } finally {
      const doubles = await sampler.stop();
      assert.deepEqual(doubles, [], `on two NICs for longer than a move: ${doubles.slice(0, 5).join('; ')}`);
    }
  });
});
