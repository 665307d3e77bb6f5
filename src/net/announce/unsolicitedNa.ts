// Unsolicited neighbour advertisement (RFC 4861 7.2.6): to all-nodes, hop
// limit 255, Override set, Solicited clear, with our MAC as target link-layer
// address; the kernel fills in the source and the checksum.

import raw from 'raw-socket';
import { textToIp } from '../netlink/convert.js';
import {
  bindToDevice,
  IPPROTO_IPV6,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_LOOP,
  IPV6_UNICAST_HOPS,
} from '../socketOptions.js';
import { macToBuffer } from './garp.js';

export function encodeUnsolicitedNa(target: string, mac: string): Buffer {
  const na = Buffer.alloc(32);
  na[0] = 136; // neighbour advertisement
  na[4] = 0x20; // R=0 S=0 O=1
  textToIp(target, 6).copy(na, 8);
  na[24] = 2; // option: target link-layer address
  na[25] = 1; // length in units of 8 bytes
  macToBuffer(mac).copy(na, 26);
  return na;
}

export function sendUnsolicitedNa(
  ifname: string,
  mac: string,
  target: string,
  count: number,
  intervalMs: number,
): Promise<number> {
  const socket = raw.createSocket({ addressFamily: raw.AddressFamily.IPv6, protocol: raw.Protocol.ICMPv6 });
  bindToDevice(socket, ifname);
  socket.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
  socket.setOption(IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);
  socket.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
  const packet = encodeUnsolicitedNa(target, mac);
  let sent = 0;
  let finished = false;
  socket.on('error', () => undefined); // raw-socket closes the socket itself; the count says what left
  return new Promise((resolve) => {
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      socket.close();
      resolve(sent);
    };
    // a send whose completion never comes back must not hold the failover
    const guard = setTimeout(finish, 1000 + count * intervalMs);
    const one = (i: number) => {
      if (finished) return;
      if (i >= count) return finish();
      socket.send(
        packet,
        0,
        packet.length,
        `ff02::1%${ifname}`,
        () => undefined,
        (err) => {
          if (!err) sent++;
          if (intervalMs > 0) setTimeout(() => one(i + 1), intervalMs);
          else one(i + 1);
        },
      );
    };
    one(0);
  });
}
