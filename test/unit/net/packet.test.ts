import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  encodeEchoRequest,
  internetChecksum,
  ipv4Header,
  ipv6Header,
  parseEchoReply,
  probeIdentifier,
  refillEchoRequest,
} from '../../../src/net/icmp/packet.js';
import { encodeUnsolicitedNa } from '../../../src/net/announce/unsolicitedNa.js';

/** What a target sends back: the request turned into a reply, behind an IPv4 header. */
function replyTo(request: Buffer, opts: { ihl?: number } = {}): Buffer {
  const icmp = Buffer.from(request);
  icmp[0] = 0;
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(internetChecksum(icmp), 2);
  const header = Buffer.alloc((opts.ihl ?? 5) * 4);
  header[0] = 0x40 | (opts.ihl ?? 5);
  header[8] = 63;
  return Buffer.concat([header, icmp]);
}

test('echo request/reply round trip, IPv4 with options in the IP header', () => {
  const nonce = randomBytes(8);
  const req = encodeEchoRequest(4, {
    id: probeIdentifier(4242, 3),
    seq: 65535,
    sentAtNs: 123456789012345n,
    kind: 'uni',
    nonce,
  });
  assert.equal(internetChecksum(req), 0, 'request checksum');
  for (const ihl of [5, 6, 15]) {
    const r = parseEchoReply(4, replyTo(req, { ihl }));
    assert.ok(r.ok);
    assert.deepEqual(
      [r.id, r.seq, r.sentAtNs, r.kind, r.ttl],
      [((4242 & 0xff) << 8) | 3, 65535, 123456789012345n, 'uni', 63],
    );
    assert.ok(r.nonce.equals(nonce));
  }
});

test('IPv6 replies come without an IP header', () => {
  const req = encodeEchoRequest(6, { id: 7, seq: 9, sentAtNs: 5n, kind: 'multi', nonce: Buffer.alloc(8, 1) });
  const reply = Buffer.from(req);
  reply[0] = 129;
  const r = parseEchoReply(6, reply);
  assert.ok(r.ok && r.kind === 'multi' && r.seq === 9);
});

test('malformed, foreign and corrupted packets are refused with a reason, never thrown', () => {
  const req = encodeEchoRequest(4, { id: 1, seq: 1, sentAtNs: 1n, kind: 'uni', nonce: Buffer.alloc(8) });
  const good = replyTo(req);
  const corrupted = Buffer.from(good);
  corrupted[30]! ^= 0xff;
  assert.deepEqual(parseEchoReply(4, corrupted), { ok: false, reason: 'bad_checksum' });
  assert.deepEqual(parseEchoReply(4, good.subarray(0, 30)), { ok: false, reason: 'malformed' });
  const request = Buffer.concat([Buffer.from([0x45, ...Array(19).fill(0)]), req]);
  assert.deepEqual(parseEchoReply(4, request), { ok: false, reason: 'not_echo_reply' });
  const wrongType = Buffer.from(good);
  wrongType.writeUInt32BE(0xdead, 20 + 16);
  wrongType.writeUInt16BE(0, 22);
  wrongType.writeUInt16BE(internetChecksum(wrongType, 20), 22);
  assert.deepEqual(parseEchoReply(4, wrongType), { ok: false, reason: 'unknown_type' });
  // fuzz: random and truncated buffers never throw
  for (let i = 0; i < 5000; i++) {
    const b = i % 2 ? randomBytes(i % 80) : good.subarray(0, i % good.length);
    for (const family of [4, 6] as const) assert.doesNotThrow(() => parseEchoReply(family, b));
  }
});

test('the IPv4 header carries the test address as source; the NA carries override and our MAC', () => {
  const h = ipv4Header('198.18.11.6', '198.18.11.1', 64, 28);
  assert.deepEqual([...h.subarray(12, 20)], [198, 18, 11, 6, 198, 18, 11, 1]);
  assert.equal(h[9], 1);
  const na = encodeUnsolicitedNa('2001:db8::5', '02:00:00:00:00:0a');
  assert.equal(na[0], 136);
  assert.equal(na[4], 0x20, 'override set, solicited and router clear');
  assert.equal(na.subarray(8, 24).toString('hex'), '20010db8000000000000000000000005');
  assert.deepEqual([...na.subarray(24, 32)], [2, 1, 2, 0, 0, 0, 0, 10]);
});

test('the IPv6 header carries the test address as source; each refill sets a checksum the receiver accepts', () => {
  const echo = encodeEchoRequest(6, {
    id: 0x4203,
    seq: 0,
    sentAtNs: 0n,
    kind: 'uni',
    nonce: Buffer.from('0123456789abcdef', 'hex'),
  });
  const h = ipv6Header('fe80::6', 'fe80::1%eth0', 64, echo.length);
  assert.equal(h.length, 40);
  assert.equal(h[0]! >> 4, 6);
  assert.deepEqual([h.readUInt16BE(4), h[6], h[7]], [echo.length, 58, 64]);
  assert.equal(h.subarray(8, 24).toString('hex'), 'fe800000000000000000000000000006');
  assert.equal(h.subarray(24, 40).toString('hex'), 'fe800000000000000000000000000001');
  const packet = Buffer.concat([h, echo]);
  // what the receiver checks (RFC 8200 8.1): pseudo-header plus message sums to zero
  const pseudo = Buffer.alloc(40);
  packet.copy(pseudo, 0, 8, 40);
  pseudo.writeUInt32BE(echo.length, 32);
  pseudo[39] = 58;
  for (const [seq, at] of [
    [1, 5n],
    [65535, 123456789012345n],
    [7, 0xffffffffffffffffn],
  ] as const) {
    refillEchoRequest(6, packet, 40, seq, at);
    assert.equal(internetChecksum(Buffer.concat([pseudo, packet.subarray(40)])), 0, `seq ${seq}`);
    const parsed = parseEchoReply(6, Buffer.concat([Buffer.from([129]), packet.subarray(41)]));
    assert.ok(parsed.ok && parsed.seq === seq && parsed.sentAtNs === at);
  }
  // without our header (a socket where the kernel checksums) the field is left alone
  const bare = Buffer.from(echo);
  refillEchoRequest(6, bare, 0, 3, 9n);
  assert.equal(bare.readUInt16BE(2), 0);
});
