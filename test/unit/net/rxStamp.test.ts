// Kernel arrival stamps on a real raw ICMP socket, over loopback only: the fd is
// found, stamping is enabled, and each echo reply's stamp lies between the send
// and the moment JavaScript saw it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import raw from 'raw-socket';
import { nsToMs } from '../../../src/daemon/clock.js';
import { encodeEchoRequest, parseEchoReply } from '../../../src/net/icmp/packet.js';
import { enableReceiveStamps, kernelArrivalMs, socketFds } from '../../../src/net/icmp/rxStamp.js';

test('echo replies from 127.0.0.1 carry a kernel arrival time between send and JavaScript', async () => {
  const before = socketFds();
  const socket = raw.createSocket({ addressFamily: raw.AddressFamily.IPv4, protocol: raw.Protocol.ICMP });
  const keepAlive = setInterval(() => undefined, 1000); // raw-socket's poll handle does not hold the loop open
  try {
    const fd = enableReceiveStamps(before);
    assert.ok(fd !== undefined && fd > 2, `no stamping fd found (${fd})`);
    const nonce = Buffer.alloc(8, 7);
    const stamps: Array<{ sent: number; kernel: number | undefined; seen: number }> = [];
    for (let seq = 0; seq < 20; seq++) {
      const sent = nsToMs(process.hrtime.bigint());
      const reply = new Promise<{ kernel: number | undefined; seen: number }>((resolve) => {
        const onMessage = (buffer: Buffer) => {
          const seen = nsToMs(process.hrtime.bigint());
          const parsed = parseEchoReply(4, buffer);
          if (!parsed.ok || parsed.id !== 0x4242 || parsed.seq !== seq) return; // someone else's ICMP
          socket.off('message', onMessage);
          resolve({ kernel: kernelArrivalMs(fd, sent, seen), seen });
        };
        socket.on('message', onMessage);
      });
      const echo = encodeEchoRequest(4, { id: 0x4242, seq, sentAtNs: 0n, kind: 'uni', nonce });
      socket.send(
        echo,
        0,
        echo.length,
        '127.0.0.1',
        () => undefined,
        (err) => assert.ifError(err),
      );
      stamps.push({ sent, ...(await reply) });
    }
    const stamped = stamps.filter((s) => s.kernel !== undefined);
    assert.ok(stamped.length >= 18, `only ${stamped.length} of 20 replies had a usable kernel stamp`);
    for (const s of stamped) assert.ok(s.sent <= s.kernel! && s.kernel! <= s.seen);
    // the stamp is earlier than JavaScript's view: that is the whole point
    assert.ok(
      stamped.some((s) => s.kernel! < s.seen),
      'kernel stamps never earlier than JavaScript',
    );
  } finally {
    clearInterval(keepAlive);
    socket.close();
  }
});

test('a file descriptor that is not a raw ICMP socket is refused', () => {
  // stdin/stdout/stderr are never new sockets: nothing new since "now" means no fd
  assert.equal(enableReceiveStamps(socketFds()), undefined);
});
