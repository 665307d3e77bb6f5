// Adapters for the daemon's unit tests: a two-NIC host (test addresses on eth0
// and eth1, the data address on eth0, a default router) that accepts every
// change and records the probes sent.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { DaemonConfig } from '../../../src/config/types.js';
import { Daemon, type Adapters, type HostPreparation, type ProbeSend } from '../../../src/daemon/daemon.js';
import type { KernelAddress } from '../../../src/daemon/ports.js';
import { cidr } from '../core/sim.js';

export function fakeAdapters(
  opts: {
    prepare?: (config: DaemonConfig) => Promise<HostPreparation>;
    /** what a probe's sending also does (e.g. queue its reply) */
    onSend?: (p: ProbeSend) => void;
    probes?: Partial<Adapters['probes']>;
  } = {},
) {
  const sends: Array<{ at: number; ifname: string }> = [];
  const addresses: KernelAddress[] = [
    { device: 'eth0', cidr: cidr('198.18.11.6/24'), secondary: false, noprefixroute: true },
    { device: 'eth1', cidr: cidr('198.18.11.7/24'), secondary: false, noprefixroute: true },
    { device: 'eth0', cidr: cidr('198.18.11.5/24'), secondary: true, noprefixroute: false },
  ];
  const adapters: Adapters = {
    kernel: { addAddress: async () => {}, deleteAddress: async () => {}, replaceRoute: async () => {} },
    view: {
      links: () =>
        ['eth0', 'eth1'].map((name, index) => ({
          name,
          index: index + 2,
          adminUp: true,
          carrier: true,
          mac: `02:00:00:00:00:0${index}`,
        })),
      addresses: () => addresses,
      holdersOf: (address: string) => addresses.filter((a) => a.cidr.address === address).map((a) => a.device),
      routes: () => [{ family: 4, prefixLength: 0, gateway: '198.18.11.1', device: 'eth0', protocol: 'boot' }],
      gatewayRoutes: () => [{ family: 4, prefixLength: 0, gateway: '198.18.11.1', device: 'eth0' }],
    },
    announcer: { announce: async () => ({ sent: 0 }) },
    onKernelChange: () => {},
    probes: {
      send: (p) => {
        sends.push({ at: Date.now(), ifname: p.ifname });
        opts.onSend?.(p);
        return true;
      },
      onReplies: () => {},
      onIgnored: () => {},
      onSendError: () => {},
      ...opts.probes,
    },
    ensureTestAddresses: async () => [],
    prepare: opts.prepare ?? (async () => ({ added: [], commit: () => {}, rollback: async () => {} })),
    close: async () => {},
  };
  return { adapters, sends };
}

/**
 * Run a daemon on these adapters with the config `configFor` makes (given the
 * admin socket's path, in a temporary directory), hand it to `body`, then stop
 * it and remove the directory.
 */
export async function withDaemon(
  adapters: Adapters,
  configFor: (adminSocket: string) => DaemonConfig,
  body: (daemon: Daemon) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ipmpd-daemon-'));
  const daemon = new Daemon({
    config: configFor(join(dir, 'admin.sock')),
    adapters,
    log: pino({ level: 'silent' }),
    listenAddress: '127.0.0.1:0',
    build: { version: 'test', revision: 'test' },
  });
  try {
    await daemon.start();
    await body(daemon);
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
