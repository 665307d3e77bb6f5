// Which probe an ARP reply answers. A reply carries no sequence number or
// nonce: only who answered (its sender address) and, by the socket it arrived
// on, which NIC it reached. So each NIC keeps the last failure-detection probe
// and the last RTT-only probe it sent to each target; a reply from that target
// answers the failure-detection probe first, and each probe is answered once.
// A reply from any other address matches nothing.

export interface SentProbe {
  seq: number;
  kind: 'uni' | 'rtt';
  /** monotonic ms just before sendto() */
  sentAt: number;
}

const MAX_TARGETS = 64;

export class ArpReplyMatcher {
  private readonly waiting = new Map<string, { uni?: SentProbe; rtt?: SentProbe }>();

  sent(target: string, probe: SentProbe): void {
    // targets come and go: unanswered probes to old ones must not pile up
    if (!this.waiting.has(target) && this.waiting.size >= MAX_TARGETS) this.waiting.clear();
    const w = this.waiting.get(target) ?? {};
    w[probe.kind] = probe;
    this.waiting.set(target, w);
  }

  /** The probe a reply from `sender` answers, or undefined (not probed from this NIC, or answered already). */
  match(sender: string): SentProbe | undefined {
    const w = this.waiting.get(sender);
    const probe = w?.uni ?? w?.rtt;
    if (!w || !probe) return undefined;
    delete w[probe.kind];
    if (!w.uni && !w.rtt) this.waiting.delete(sender);
    return probe;
  }
}
