// Whether a failover converged: the time from the decision to the first packet
// that reached the address on its new NIC, the silence of addresses still
// waiting for one, and the re-announcements sent meanwhile.

import type { ExpositionBuffer } from './exposition.js';
import { type Family, TextMetric } from './textFamilies.js';
import { TextHistogram } from './textHistogram.js';

/** 1 ms to ~5 min: a neighbour that took the announcement answers within the client's next packet; one that ignored it may take minutes. */
const CONVERGENCE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface SilentAddress {
  group: string;
  address: string;
  /** Since the move while nothing arrived; 0 once a packet did. */
  seconds: number;
}

export class ConvergenceMetrics {
  private readonly convergence = new TextHistogram<'group'>(
    'ipmp_failover_convergence_seconds',
    'From the decision to move a data address to the first packet addressed to it that its new NIC received.',
    ['group'],
    CONVERGENCE_BUCKETS,
    true,
  );
  private readonly reannouncements = new TextMetric<'group' | 'device'>(
    'ipmp_silent_reannouncements_total',
    'Announcements repeated after a failover because no packet had reached the moved address on its new NIC yet.',
    'counter',
    ['group', 'device'],
  );
  private readonly silentSeconds = new TextMetric<'group' | 'ip_address'>(
    'ipmp_address_inbound_silent_seconds',
    'Time since a data address moved while no packet addressed to it has reached its new NIC; 0 once one has.',
    'gauge',
    ['group', 'ip_address'],
  );
  /** The families written in the registry's layout, in this order; the silent gauge is read at scrape time. */
  readonly families: readonly Family[] = [
    this.convergence,
    this.reannouncements,
    {
      render: (out: ExpositionBuffer) => {
        this.silentSeconds.clear();
        for (const s of this.silent()) this.silentSeconds.set({ group: s.group, ip_address: s.address }, s.seconds);
        this.silentSeconds.render(out);
      },
    },
  ];

  private silent: () => SilentAddress[] = () => [];

  /** Where ipmp_address_inbound_silent_seconds is read at scrape time. */
  silentFrom(read: () => SilentAddress[]): void {
    this.silent = read;
  }

  private readonly declared = new Set<string>();

  declareGroup(group: string, devices: string[]): void {
    // a reload declares its groups again: the histogram keeps its counts
    if (!this.declared.has(group)) this.convergence.zero({ group });
    this.declared.add(group);
    for (const device of devices) this.reannouncements.inc({ group, device }, 0);
  }

  converged(group: string, seconds: number): void {
    this.convergence.observe({ group }, seconds);
  }

  reannounced(group: string, device: string): void {
    this.reannouncements.inc({ group, device });
  }
}
