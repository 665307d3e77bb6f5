// Rate limit for `probe_send_failed` log lines: a firewall rule that drops
// every probe would otherwise log one line per probe, several a second per
// NIC, for as long as the rule stays. The first failure of each interface,
// target and errno is logged at once; after that at most one line per
// interval, saying how many were left out. The counter metric sees them all.

interface Seen {
  loggedAt: number;
  suppressed: number;
}

export class SendErrorThrottle {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly intervalMs = 60_000,
    /** targets come and go (multicast discovery): forget rather than grow */
    private readonly maxKeys = 256,
  ) {}

  /** Log now? Then the number of failures not logged since the previous line; else undefined. */
  admit(now: number, ifname: string, target: string, errno: string): number | undefined {
    const key = `${ifname} ${target} ${errno}`;
    const s = this.seen.get(key);
    if (s && now - s.loggedAt < this.intervalMs) {
      s.suppressed++;
      return undefined;
    }
    if (!s && this.seen.size >= this.maxKeys) this.seen.clear();
    this.seen.set(key, { loggedAt: now, suppressed: 0 });
    return s?.suppressed ?? 0;
  }
}
