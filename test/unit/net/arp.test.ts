// The ARP probe adapter's pure parts: the RFC 5227 probe it sends, the replies
// it accepts, which probe a reply answers, and the neighbour table it reads
// when it looks for hosts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArpReplyMatcher } from '../../../src/net/arp/matcher.js';
import { parseProcNetArp } from '../../../src/net/arp/neighbours.js';
import { encodeArpProbe, macBytes, parseArpReply } from '../../../src/net/arp/packet.js';

const MAC = '02:00:5e:00:00:0a';

test('the probe is an Ethernet/IPv4 ARP request from 0.0.0.0 with our MAC and a zero target MAC', () => {
  const p = encodeArpProbe(macBytes(MAC), '198.18.11.1');
  assert.equal(p.toString('hex'), '0001080006040001' + '02005e00000a' + '00000000' + '000000000000' + 'c6120b01');
});

test('replies: sender address and MAC of an Ethernet/IPv4 reply; requests and other packets refused', () => {
  const reply = Buffer.from('0001080006040002' + '0a0b0c0d0e0f' + 'c6120b01' + '02005e00000a' + '00000000', 'hex');
  assert.deepEqual(parseArpReply(reply), { ok: true, senderIp: '198.18.11.1', senderMac: '0a:0b:0c:0d:0e:0f' });
  assert.deepEqual(parseArpReply(encodeArpProbe(macBytes(MAC), '198.18.11.1')), { ok: false, reason: 'not_a_reply' });
  assert.deepEqual(parseArpReply(reply.subarray(0, 20)), { ok: false, reason: 'short' });
  const ipv6ish = Buffer.from(reply);
  ipv6ish.writeUInt16BE(0x86dd, 2);
  assert.deepEqual(parseArpReply(ipv6ish), { ok: false, reason: 'not_ethernet_ipv4' });
  assert.throws(() => macBytes('02:00:5e:00:00'), /not a MAC address/);
  assert.throws(() => encodeArpProbe(macBytes(MAC), 'fe80::1'), /not an IPv4 address/);
});

test('a reply answers the last probe to its sender once: failure detection, then RTT, then discovery; others match nothing', () => {
  const m = new ArpReplyMatcher();
  m.sent('198.18.11.1', { seq: 1, kind: 'uni', sentAt: 10 });
  m.sent('198.18.11.1', { seq: 2, kind: 'uni', sentAt: 20 }); // the first was lost: only the newest waits
  m.sent('198.18.11.1', { seq: 2, kind: 'rtt', sentAt: 25 });
  assert.equal(m.match('198.18.11.50'), undefined, 'a non-target matched');
  assert.deepEqual(m.match('198.18.11.1'), { seq: 2, kind: 'uni', sentAt: 20 });
  assert.deepEqual(m.match('198.18.11.1'), { seq: 2, kind: 'rtt', sentAt: 25 });
  assert.equal(m.match('198.18.11.1'), undefined, 'a duplicate matched');
  // a discovery probe to a neighbour is answered after the probes that judge a NIC
  m.sent('198.18.11.21', { seq: 7, kind: 'multi', sentAt: 30 });
  m.sent('198.18.11.21', { seq: 8, kind: 'uni', sentAt: 31 });
  assert.equal(m.match('198.18.11.21')?.kind, 'uni');
  assert.equal(m.match('198.18.11.21')?.kind, 'multi');
  assert.equal(m.match('198.18.11.21'), undefined);
});

test('neighbour table: complete entries only, with their device', () => {
  const text = [
    'IP address       HW type     Flags       HW address            Mask     Device',
    '198.18.11.1      0x1         0x2         02:00:00:00:00:01     *        eth0',
    '198.18.11.21     0x1         0x0         00:00:00:00:00:00     *        eth0',
    '198.18.11.22     0x1         0x6         02:00:00:00:00:22     *        eth1',
    '',
  ].join('\n');
  assert.deepEqual(parseProcNetArp(text), [
    { address: '198.18.11.1', device: 'eth0' },
    { address: '198.18.11.22', device: 'eth1' },
  ]);
  assert.deepEqual(parseProcNetArp(''), []);
});
