// The last probe results, for /api/v1/status and `ipmpd stat -p` watchers.

import type { EngineEvent } from '../core/types.js';

type ProbeEvent = Extract<EngineEvent, { kind: 'probe_acked' | 'probe_lost' }>;

export class ProbeLog {
  private readonly ring: ProbeEvent[] = [];
  private readonly watchers = new Set<(line: unknown) => void>();

  constructor(private readonly capacity: number) {}

  push(e: ProbeEvent): void {
    if (this.ring.length >= this.capacity) this.ring.shift();
    this.ring.push(e);
    for (const w of this.watchers) w(e);
  }

  recent(): ProbeEvent[] {
    return [...this.ring];
  }

  subscribe(send: (line: unknown) => void): () => void {
    this.watchers.add(send);
    return () => this.watchers.delete(send);
  }
}
