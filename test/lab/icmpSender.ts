// A hostile ICMP sender for lab hosts, run as its own process inside a lab
// namespace (raw socket, IP_HDRINCL, any source address):
//
//   node icmpSender.js guess --from 198.18.11.1 --to 198.18.11.7 --id 4660 --seq-start 120 --seq-span 128 --pps 2000 --seconds 10
//     echo replies forged from a target, with ipmpd's identifier and probe marker,
//     cycling through the sequence numbers the next probes will use, with a made-up nonce
//   node icmpSender.js junk --from 198.18.11.50 --to 198.18.11.6 --pps 2000 --seconds 10
//     random ICMP: every type and code, random lengths and bytes, some with good checksums
//
// Prints the number of packets sent on exit.

import { randomBytes } from 'node:crypto';
import raw from 'raw-socket';
import { encodeEchoRequest, internetChecksum, ipv4Header } from '../../src/net/icmp/packet.js';
import { IP_HDRINCL, IPPROTO_IP } from '../../src/net/socketOptions.js';
import { below, rng } from '../rng.js';

function option(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`icmpSender: --${name} is required`);
  return v;
}

const mode = process.argv[2];
if (mode !== 'guess' && mode !== 'junk') throw new Error(`icmpSender: mode must be guess or junk, got ${mode}`);
const from = option('from');
const to = option('to');
const pps = Number(option('pps'));
const seconds = Number(option('seconds'));
const id = mode === 'guess' ? Number(option('id')) : 0;
const seqStart = mode === 'guess' ? Number(option('seq-start')) : 0;
const seqSpan = mode === 'guess' ? Number(option('seq-span')) : 1;
const r = rng(Number(process.argv.includes('--seed') ? option('seed') : 1));

function forgedReply(seq: number): Buffer {
  const icmp = encodeEchoRequest(4, { id, seq, sentAtNs: process.hrtime.bigint(), kind: 'uni', nonce: randomBytes(8) });
  icmp[0] = 0; // echo reply
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(internetChecksum(icmp), 2);
  return icmp;
}

function junk(): Buffer {
  const icmp = Buffer.from(Array.from({ length: 8 + below(r, 64) }, () => below(r, 256)));
  icmp[0] = below(r, 4) === 0 ? 0 : below(r, 256); // a quarter claim to be echo replies
  icmp[1] = below(r, 4) === 0 ? 0 : below(r, 256);
  if (below(r, 2) === 0) {
    icmp.writeUInt16BE(0, 2);
    icmp.writeUInt16BE(internetChecksum(icmp), 2);
  }
  return icmp;
}

const socket = raw.createSocket({ addressFamily: raw.AddressFamily.IPv4, protocol: raw.Protocol.ICMP });
socket.setOption(IPPROTO_IP, IP_HDRINCL, 1);
let sent = 0;
let n = 0;
const perTick = Math.max(1, Math.round(pps / 1000));
const tick = setInterval(() => {
  for (let i = 0; i < perTick; i++) {
    const icmp = mode === 'guess' ? forgedReply((seqStart + (n++ % seqSpan)) & 0xffff) : junk();
    const packet = Buffer.concat([ipv4Header(from, to, 64, icmp.length), icmp]);
    socket.send(
      packet,
      0,
      packet.length,
      to,
      () => undefined,
      (err: Error | null) => {
        if (!err) sent++;
      },
    );
  }
}, 1);
function finish(): void {
  clearInterval(tick);
  setTimeout(() => {
    process.stdout.write(`${sent}\n`);
    socket.close();
    process.exit(0);
  }, 50);
}
setTimeout(finish, seconds * 1000);
process.once('SIGTERM', finish);
