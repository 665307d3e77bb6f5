import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateSysctls, type Readings } from '../../src/net/sysctl.js';

const kernelDefaults = (devs: string[]): Readings => {
  const r: Readings = { 'net.ipv4.icmp_echo_ignore_broadcasts': '1' };
  for (const d of ['all', ...devs])
    Object.assign(r, {
      [`net.ipv4.conf.${d}.arp_ignore`]: '0',
      [`net.ipv4.conf.${d}.arp_announce`]: '0',
      [`net.ipv4.conf.${d}.rp_filter`]: d === 'all' ? '1' : '0',
      [`net.ipv4.conf.${d}.promote_secondaries`]: '0',
      [`net.ipv4.conf.${d}.arp_filter`]: '0',
      [`net.ipv4.conf.${d}.drop_gratuitous_arp`]: '0',
    });
  return r;
};

test('kernel defaults on a present NIC: four warnings, each fix also sets default for NICs created later', () => {
  const findings = evaluateSysctls(['eth0'], kernelDefaults(['eth0']));
  assert.deepEqual(
    findings.map((f) => f.sysctl),
    [
      'net.ipv4.conf.eth0.arp_ignore',
      'net.ipv4.conf.eth0.arp_announce',
      'net.ipv4.conf.eth0.rp_filter',
      'net.ipv4.conf.eth0.promote_secondaries',
    ],
  );
  for (const f of findings) assert.match(f.fix, /net\.ipv4\.conf\.default\./, f.fix);
});

test('a configured NIC that is absent (no readings) is skipped, not judged on zeros', () => {
  const findings = evaluateSysctls(['eth0', 'eth1'], kernelDefaults(['eth0']));
  assert.ok(findings.length > 0);
  assert.ok(
    findings.every((f) => f.sysctl.includes('.eth0.')),
    findings.map((f) => f.sysctl).join(', '),
  );
});

test('fixed values give no findings', () => {
  const r = kernelDefaults(['eth0']);
  Object.assign(r, {
    'net.ipv4.conf.all.arp_ignore': '1',
    'net.ipv4.conf.all.arp_announce': '2',
    'net.ipv4.conf.all.rp_filter': '2',
    'net.ipv4.conf.eth0.promote_secondaries': '1',
  });
  assert.deepEqual(evaluateSysctls(['eth0'], r), []);
});
