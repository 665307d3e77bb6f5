// Which probe an ARP reply answers. A reply carries no sequence number or
// nonce: only who answered (its sender address) and, by the socket it arrived
// on, which NIC it reached. So each NIC keeps the last failure-detection probe,
// the last RTT-only probe and the last discovery probe it sent to each address;
// a reply from that address answers them in that order, each once. A reply
// from any other address matches nothing.

export interface SentProbe {
  seq: number;
  /** failure detection, RTT only, or discovery (is this neighbour alive?) */
  kind: 'uni' | 'rtt' | 'multi';
  /** monotonic ms just before sendto() */
  sentAt: number;
}

const MAX_TARGETS = 64;

export class ArpReplyMatcher {
  private readonly waiting = new Map<string, { uni?: SentProbe; rtt?: SentProbe; multi?: SentProbe }>();

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
    const probe = w?.uni ?? w?.rtt ?? w?.multi;
    if (!w || !probe) return undefined;
    delete w[probe.kind];
    if (!w.uni && !w.rtt && !w.multi) this.waiting.delete(sender);
    return probe;
  }
}
