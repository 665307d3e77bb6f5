// Kernel send errors on the real kernel: an nftables output rule in the IPMP
// host drops every ICMP packet leaving eth0, so each probe's sendto() fails
// with EPERM. The failures are counted per target, logged (rate-limited), and
// the probes count as lost: eth0 fails within the FDT and the data address
// moves; eth1, whose probes still go out, is unaffected.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from './ipmpd.js';
import { parseSamples, total } from './metricsText.js';

const DROP_ICMP_OUT_OF_ETH0 = `table inet ipmpd_send_errors {
  chain out {
    type filter hook output priority 0;
    oif "eth0" ip protocol icmp drop
  }
}
`;

test('sendto() refused by an output firewall rule: counted per target, logged, probes lost, eth0 fails within the FDT and the address moves', async (t) => {
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
  try {
    await ipmpd.waitFor('the first placement', (l) => l.event === 'address_moved' && l.to === 'eth0', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    await ipmpd.waitFor(
      'answers on both NICs',
      () => new Set(ipmpd.lines.filter((l) => l.event === 'probe_acked').map((l) => l.ifname)).size === 2,
      15_000,
    );
    const metrics = async () => parseSamples((await ipmpd.http('/metrics')).body);
    assert.equal(total(await metrics(), 'ipmp_probe_send_errors_total'), 0, 'send errors before any rule');

    const t0 = Date.now();
    await lab.exec('ipmp', ['nft', '-f', '-'], { input: DROP_ICMP_OUT_OF_ETH0 });
    const logged = await ipmpd.waitFor(
      'a probe_send_failed line',
      (l) => l.event === 'probe_send_failed' && l.at >= t0,
      5000,
    );
    assert.deepEqual([logged.interface, logged.target, logged.errno], ['eth0', '198.18.11.1', 'EPERM']);
    const failure = await ipmpd.waitFor(
      'eth0 failure',
      (l) => l.event === 'interface_failed' && l.interface === 'eth0' && l.at >= t0,
      5000,
    );
    assert.equal(failure.cause, 'probe');
    // FDT 1 s; the first probe after the rule may go out up to one probe interval later
    assert.ok(failure.at - t0 < 1600, `eth0 failed ${failure.at - t0} ms after the rule`);
    const lost = ipmpd.lines.filter(
      (l) => l.event === 'probe_lost' && l.ifname === 'eth0' && l.at >= t0 && l.at <= failure.at,
    );
    assert.ok(lost.length >= 5, `eth0 failed after ${lost.length} lost probes`);
    await ipmpd.waitFor('the move to eth1', (l) => l.event === 'address_moved' && l.to === 'eth1' && l.at >= t0, 5000);

    await new Promise((r) => setTimeout(r, 2000)); // eth0 keeps probing, and failing, while failed
    const samples = await metrics();
    const eth0Errors = total(samples, 'ipmp_probe_send_errors_total', { device: 'eth0', target: '198.18.11.1' });
    assert.ok(eth0Errors >= 10, `eth0 send errors counted: ${eth0Errors}`);
    assert.equal(total(samples, 'ipmp_probe_send_errors_total', { device: 'eth1' }), 0, 'eth1 send errors');
    t.diagnostic(
      `eth0 failed ${failure.at - t0} ms after the rule, after ${lost.length} lost probes; ${eth0Errors} send errors counted`,
    );
    const perm = ipmpd.lines.filter(
      (l: LogLine) => l.event === 'probe_send_failed' && l.interface === 'eth0' && l.errno === 'EPERM',
    );
    assert.equal(perm.length, 1, `probe_send_failed is rate-limited: ${perm.length} lines for ${eth0Errors} failures`);
    assert.equal(
      ipmpd.lines.filter((l) => l.event === 'interface_failed' && l.interface === 'eth1').length,
      0,
      'eth1 failed',
    );
    assert.ok(
      ipmpd.lines.some((l) => l.event === 'probe_acked' && l.ifname === 'eth1' && l.at > failure.at),
      'eth1 still answered',
    );
    assert.deepEqual(await lab.holders('ipmp', '198.18.11.5'), ['eth1']);
  } finally {
    await ipmpd.stop();
    await lab.destroy();
    rmSync(ipmpd.dir, { recursive: true, force: true });
  }
});
