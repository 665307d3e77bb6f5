// The ICMP echo-reply parser against tens of thousands of generated packets:
// mutants of valid replies (bit flips, truncation, trailing bytes, IP header
// lengths) and random bytes, both families. It never throws, refuses with a
// known reason, and what it accepts is exactly what a target could have sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeEchoRequest, internetChecksum, parseEchoReply, type EchoFields } from '../../../src/net/icmp/packet.js';
import type { ProbeKind } from '../../../src/core/types.js';
import { below, pick, rng, type Rng } from '../../rng.js';

const REASONS = new Set(['malformed', 'not_echo_reply', 'bad_checksum', 'unknown_type']);
const KINDS: ProbeKind[] = ['uni', 'multi', 'rtt'];

function randomFields(r: Rng): EchoFields {
  return {
    id: below(r, 0x10000),
    seq: below(r, 0x10000),
    sentAtNs: BigInt(below(r, 2 ** 31)) * 1_000_003n,
    kind: pick(r, KINDS),
    nonce: Buffer.from(Array.from({ length: 8 }, () => below(r, 256))),
  };
}

/** The reply a target sends: the request with type 0/129, checksummed (v4) behind an IP header of `ihl` words. */
function reply(family: 4 | 6, f: EchoFields, ihl: number): Buffer {
  const icmp = encodeEchoRequest(family, f);
  icmp[0] = family === 4 ? 0 : 129;
  icmp.writeUInt16BE(0, 2);
  if (family === 6) return icmp;
  icmp.writeUInt16BE(internetChecksum(icmp), 2);
  const header = Buffer.alloc(ihl * 4);
  header[0] = 0x40 | ihl;
  header[8] = 64;
  return Buffer.concat([header, icmp]);
}

function mutate(r: Rng, packet: Buffer): Buffer {
  let b = Buffer.from(packet);
  const edits = 1 + below(r, 3);
  for (let e = 0; e < edits; e++) {
    const kind = below(r, 5);
    if (kind === 0 && b.length > 0) b[below(r, b.length)]! ^= 1 << below(r, 8);
    else if (kind === 1) b = b.subarray(0, below(r, b.length + 1));
    else if (kind === 2) b = Buffer.concat([b, Buffer.from(Array.from({ length: below(r, 40) }, () => below(r, 256)))]);
    else if (kind === 3 && b.length > 0)
      b[0] = (b[0]! & 0xf0) | below(r, 16); // IHL anywhere from 0 to 15 words
    else if (b.length > 0) b[below(r, b.length)] = below(r, 256);
  }
  return b;
}

function assertSane(family: 4 | 6, packet: Buffer, context: string): ReturnType<typeof parseEchoReply> {
  let parsed: ReturnType<typeof parseEchoReply>;
  try {
    parsed = parseEchoReply(family, packet);
  } catch (err) {
    assert.fail(
      `${context}: parseEchoReply threw ${(err as Error).message} on ${packet.toString('hex').slice(0, 120)}`,
    );
  }
  if (!parsed.ok) {
    assert.ok(REASONS.has(parsed.reason), `${context}: unknown refusal reason ${parsed.reason}`);
    return parsed;
  }
  // accepted: the ICMP part must be a checksummed echo reply that re-encodes to itself
  const icmp = family === 4 ? packet.subarray((packet[0]! & 0x0f) * 4) : packet;
  if (family === 4)
    assert.equal(internetChecksum(icmp), 0, `${context}: accepted a packet whose checksum does not hold`);
  assert.ok(KINDS.includes(parsed.kind), `${context}: accepted kind ${parsed.kind}`);
  const again = encodeEchoRequest(family, parsed);
  assert.ok(icmp.subarray(4, 28).equals(again.subarray(4, 28)), `${context}: accepted fields do not match the bytes`);
  return parsed;
}

test('20 000 mutants of valid replies: never a throw, refusals name a known reason, acceptances are self-consistent', () => {
  const r = rng(0x1c3f);
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    const family = i % 3 === 0 ? 6 : 4;
    const original = reply(family, randomFields(r), 5 + below(r, 11));
    if (!assertSane(family, mutate(r, original), `mutant ${i}`).ok) refused++;
  }
  // the mutations must reach the refusal paths, or this test proves little
  assert.ok(refused > 10_000, `only ${refused} of 20000 mutants were refused`);
});

test('random bytes of every length up to 120, both families, never throw', () => {
  const r = rng(7);
  for (let i = 0; i < 20_000; i++) {
    const b = Buffer.from(Array.from({ length: below(r, 121) }, () => below(r, 256)));
    assertSane(pick(r, [4, 6] as const), b, `random ${i}`);
  }
});

test("every single-bit error in an IPv4 reply's ICMP part is refused (the checksum catches it)", () => {
  const r = rng(99);
  for (let n = 0; n < 50; n++) {
    const original = reply(4, randomFields(r), 5);
    for (let bit = 20 * 8; bit < original.length * 8; bit++) {
      const flipped = Buffer.from(original);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      const parsed = parseEchoReply(4, flipped);
      assert.equal(parsed.ok, false, `reply ${n}: bit ${bit} flipped was accepted`);
    }
  }
});

test('a valid reply parses to the fields that were sent, with any IP header length', () => {
  const r = rng(3);
  for (let i = 0; i < 1000; i++) {
    const fields = randomFields(r);
    const family = i % 2 ? 4 : 6;
    const parsed = parseEchoReply(family, reply(family, fields, 5 + below(r, 11)));
    assert.ok(parsed.ok, `reply ${i} refused: ${parsed.ok ? '' : parsed.reason}`);
    assert.deepEqual(
      { id: parsed.id, seq: parsed.seq, sentAtNs: parsed.sentAtNs, kind: parsed.kind, nonce: parsed.nonce },
      fields,
    );
  }
});
