// announce.refresh_interval: a neighbour holding a
// stale entry for a data address is put right within one interval, without a
// failover; off by default, when the stale entry stays.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';
import { parseSamples, total } from './metricsText.js';

const DATA = '198.18.11.5';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(
  refresh: string | undefined,
  check: (r: { sentMeanwhile: number; neighbourAfter: string | undefined; eth0: string }) => void,
): Promise<void> {
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(
    lab,
    'ipmp',
    twoNicYaml({
      fdt: '1s',
      extra: `announce:\n  second_burst_after: 0s\n${refresh ? `  refresh_interval: ${refresh}\n` : ''}`,
    }),
  );
  try {
    await ipmpd.waitFor('the first placement', (l) => l.event === 'address_moved' && l.to === 'eth0', 15_000);
    await sleep(500);
    const garp = async () =>
      total(parseSamples((await ipmpd.http('/metrics')).body), 'ipmp_gratuitous_arp_sent_total', { device: 'eth0' });
    const eth0 = await lab.mac('ipmp', 'eth0');
    const eth1 = await lab.mac('ipmp', 'eth1');
    // the client believes the address is behind eth1, and sends nothing that would make it check
    await lab.exec('client', ['ip', 'neigh', 'replace', DATA, 'lladdr', eth1, 'dev', 'eth0', 'nud', 'stale']);
    const before = await garp();
    await sleep(2200);
    const sentMeanwhile = (await garp()) - before;
    check({ sentMeanwhile, neighbourAfter: await lab.neighbor('client', DATA), eth0 });
    assert.equal(ipmpd.events('address_moved').length, 1, 'an address moved');
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
}

test('announce.refresh_interval: one gratuitous ARP per interval puts a stale neighbour entry right', async () => {
  await run('500ms', ({ sentMeanwhile, neighbourAfter, eth0 }) => {
    assert.ok(sentMeanwhile >= 3 && sentMeanwhile <= 6, `${sentMeanwhile} gratuitous ARPs in 2.2 s at 500 ms`);
    assert.equal(neighbourAfter, eth0);
  });
});

test('announce.refresh_interval off (the default): nothing is re-announced, the stale entry stays', async () => {
  await run(undefined, ({ sentMeanwhile, neighbourAfter, eth0 }) => {
    assert.equal(sentMeanwhile, 0);
    assert.notEqual(neighbourAfter, eth0);
  });
});
