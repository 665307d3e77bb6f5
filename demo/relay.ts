// Runs inside the lab namespace: one TCP connection to ipmpd's HTTP port,
// relayed over stdin/stdout (the demo's localhost port forwarder).

import { connect } from 'node:net';

const socket = connect(Number(process.argv[2]), '127.0.0.1');
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on('close', () => process.exit(0));
socket.on('error', () => process.exit(1));
