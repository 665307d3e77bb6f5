// A route dump, streamed: each datagram's routes go to the caller as it
// arrives (the netlink package would gather the whole dump, a million routes,
// into objects first). The package's native reader hands over at most 32
// datagrams per turn of the event loop, so a dump never holds the loop for long.

import { RawNetlinkSocket } from 'netlink';
import { errorOf, messagesIn, NLMSG_DONE, NLMSG_ERROR, routeDumpRequest } from './wire.js';

const NETLINK_ROUTE = 0;
const AF_INET = 2;
const AF_INET6 = 10;
const DUMP_TIMEOUT_MS = 60_000;

export type RouteSink = (type: number, flags: number, data: Buffer) => void;

export class RouteDumpSocket {
  private readonly socket: RawNetlinkSocket;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private current: { seq: number; sink: RouteSink; done: () => void; fail: (err: Error) => void } | undefined;

  constructor(private readonly onUnexpected: (err: Error) => void) {
    this.socket = new RawNetlinkSocket(NETLINK_ROUTE, { recvBufferSize: 1 << 22, sendBufferSize: 1 << 16 });
    this.socket.unref();
    // called from native code: nothing may escape (an exception there aborts the process)
    this.socket.on('message', (datagram) => {
      try {
        this.receive(datagram);
      } catch (err) {
        this.current?.fail(err as Error);
      }
    });
    this.socket.on('error', (err) => {
      const c = this.current;
      if (c) c.fail(new Error(`route dump: ${err.message}`));
      else this.onUnexpected(err);
    });
  }

  /** Every IPv4 then every IPv6 route, into `sink`; resolves when both are done. */
  async dump(sink: RouteSink): Promise<void> {
    if (this.current) throw new Error('a route dump is already running');
    for (const family of [AF_INET, AF_INET6]) await this.dumpFamily(family, sink);
  }

  private dumpFamily(family: number, sink: RouteSink): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const seq = (this.seq = (this.seq + 1) & 0x7fffffff);
      const timer = setTimeout(
        () => finish(new Error(`route dump: no end within ${DUMP_TIMEOUT_MS} ms`)),
        DUMP_TIMEOUT_MS,
      );
      const finish = (err?: Error) => {
        clearTimeout(timer);
        if (this.current?.seq === seq) this.current = undefined;
        if (err) reject(err);
        else resolve();
      };
      this.current = { seq, sink, done: () => finish(), fail: (err) => finish(err) };
      this.socket.send(routeDumpRequest(family, seq), {}, (err) => {
        if (err) finish(new Error(`route dump: sending the request: ${err.message}`));
      });
    });
  }

  private receive(datagram: Buffer): void {
    const c = this.current;
    if (!c) return;
    for (const m of messagesIn(datagram)) {
      if (m.seq !== c.seq) continue;
      if (m.type === NLMSG_DONE) return c.done();
      if (m.type === NLMSG_ERROR) {
        const errno = errorOf(m.data);
        if (errno !== 0) return c.fail(new Error(`route dump: the kernel answered errno ${errno}`));
        continue;
      }
      c.sink(m.type, m.flags, m.data);
    }
  }

  close(): void {
    this.socket.close();
  }
}
