// Exposes a port of a lab namespace on localhost of the root namespace without
// touching the host's network: each connection is relayed through a small
// process started inside the namespace.

import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';

const RELAY = fileURLToPath(new URL('./relay.js', import.meta.url));

export function forwardPort(netns: string, port: number, localPort: number): Promise<Server> {
  const server = createServer((client) => {
    const relay = spawn('ip', ['netns', 'exec', netns, process.execPath, RELAY, String(port)], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    client.pipe(relay.stdin);
    relay.stdout.pipe(client);
    const end = () => {
      client.destroy();
      relay.kill();
    };
    client.on('close', end);
    client.on('error', end);
    relay.on('exit', () => client.end());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(localPort, '127.0.0.1', () => resolve(server));
  });
}
