// Linux socket option numbers raw-socket needs from us (it takes them as plain numbers).

export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
const SO_BINDTODEVICE = 25;
export const IPPROTO_IP = 0;
export const IP_HDRINCL = 3;
export const SOL_RAW = 255;
export const ICMP_FILTER = 1;
export const IPPROTO_IPV6 = 41;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_HDRINCL = 36; // Linux 4.5+
export const IPPROTO_ICMPV6 = 58;
export const ICMP6_FILTER = 1;

/** Pin a raw socket to one interface. */
export function bindToDevice(
  socket: { setOption(level: number, option: number, value: Buffer, length: number): void },
  ifname: string,
): void {
  const dev = Buffer.from(`${ifname}\0`);
  socket.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
}
