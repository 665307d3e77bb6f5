// Linux socket option numbers raw-socket needs from us (it takes them as plain numbers):
// the neighbour advertisements and the lab's ICMP sender. The probe sockets set theirs in
// native/icmpsock.c.

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
export const IPPROTO_IP = 0;
export const IP_HDRINCL = 3;
export const IPPROTO_IPV6 = 41;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;

/** Pin a raw socket to one interface. */
export function bindToDevice(
  socket: { setOption(level: number, option: number, value: Buffer, length: number): void },
  ifname: string,
): void {
  const dev = Buffer.from(`${ifname}\0`);
  socket.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
}
