// Types for raw-socket 1.8 (the package ships none): only what ipmpd uses.
declare module 'raw-socket' {
  import { EventEmitter } from 'node:events';
  export const AddressFamily: { IPv4: number; IPv6: number };
  export const Protocol: { None: number; ICMP: number; TCP: number; UDP: number; ICMPv6: number };
  export class Socket extends EventEmitter {
    send(
      buffer: Buffer,
      offset: number,
      length: number,
      address: string,
      beforeCallback: () => void,
      afterCallback: (error: Error | null, bytes: number) => void,
    ): this;
    setOption(level: number, option: number, value: Buffer | number, length?: number): void;
    close(): this;
    /**
     * The native handle. Its send() is a synchronous sendto() that throws on
     * error and then calls back with the byte count (raw-socket's own send()
     * queues and waits for a writable event first).
     */
    wrap?: {
      send?(
        buffer: Buffer,
        offset: number,
        length: number,
        address: string,
        callback: (bytes: number) => void,
      ): unknown;
    };
    on(event: 'message', listener: (buffer: Buffer, source: string) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'close', listener: () => void): this;
  }
  export function createSocket(options: { addressFamily?: number; protocol?: number; bufferSize?: number }): Socket;
  const raw: {
    AddressFamily: typeof AddressFamily;
    Protocol: typeof Protocol;
    Socket: typeof Socket;
    createSocket: typeof createSocket;
  };
  export default raw;
}
