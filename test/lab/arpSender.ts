// A hostile ARP sender for lab hosts, run as its own process inside a lab
// namespace (the ARP probe addon's AF_PACKET socket, any Ethernet destination):
//
//   node arpSender.js --dev eth0 --to 02:..:01 --sender-ip 198.18.11.50 --target-mac 02:..:01 --pps 50 --seconds 5
//     ARP replies from --sender-ip (the sender hardware address is the NIC's own MAC),
//     addressed to --target-mac, in Ethernet frames to --to (ff:ff:ff:ff:ff:ff for broadcast)
//
// Prints the number of packets sent on exit.

import { readFileSync } from 'node:fs';
import { loadArpProbeAddon } from '../../src/net/arp/prober.js';
import { ARP_PACKET_LENGTH, macBytes } from '../../src/net/arp/packet.js';

function option(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`arpSender: --${name} is required`);
  return v;
}

const dev = option('dev');
const to = macBytes(option('to'));
const senderIp = option('sender-ip');
const targetMac = macBytes(option('target-mac'));
const pps = Number(option('pps'));
const seconds = Number(option('seconds'));
const ownMac = macBytes(readFileSync(`/sys/class/net/${dev}/address`, 'utf8').trim());
const ifindex = Number(readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8').trim());

const reply = Buffer.alloc(ARP_PACKET_LENGTH);
reply.writeUInt16BE(1, 0); // Ethernet
reply.writeUInt16BE(0x0800, 2); // IPv4
reply[4] = 6;
reply[5] = 4;
reply.writeUInt16BE(2, 6); // reply
ownMac.copy(reply, 8);
Buffer.from(senderIp.split('.').map(Number)).copy(reply, 14);
targetMac.copy(reply, 18);
// target protocol address 0.0.0.0: the answer to an RFC 5227 probe

const addon = loadArpProbeAddon();
const handle = addon.open(
  ifindex,
  ownMac,
  () => undefined,
  () => undefined,
);
let sent = 0;
const end = Date.now() + seconds * 1000;
const timer = setInterval(() => {
  if (Date.now() >= end) {
    clearInterval(timer);
    addon.close(handle);
    process.stdout.write(`${sent}\n`);
    return;
  }
  if (addon.send(handle, reply, to) > 0) sent++;
}, 1000 / pps);
