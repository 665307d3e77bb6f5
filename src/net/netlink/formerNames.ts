// The names each link had before it was renamed (udev, an administrator). A
// member renamed away has left the group, but what ipmpd put on it must still
// come off: deletions find it by the name it had, through its index.

import type { KernelLink } from '../../daemon/ports.js';

export class FormerNames {
  /** link index -> earlier names, oldest first */
  private readonly byIndex = new Map<number, string[]>();

  /**
   * `next` (the links as they are now) with each one's former names: a link whose
   * index was known under another name in `before` was renamed. Links that are
   * gone forget theirs (an index reused later is another NIC).
   */
  update(before: readonly KernelLink[], next: readonly KernelLink[]): KernelLink[] {
    const nameBefore = new Map(before.map((l) => [l.index, l.name]));
    const present = new Set(next.map((l) => l.index));
    for (const index of this.byIndex.keys()) if (!present.has(index)) this.byIndex.delete(index);
    return next.map((l) => {
      const was = nameBefore.get(l.index);
      if (was !== undefined && was !== l.name) {
        const earlier = (this.byIndex.get(l.index) ?? []).filter((n) => n !== was && n !== l.name);
        this.byIndex.set(l.index, [...earlier, was]);
      }
      const former = this.byIndex.get(l.index)?.filter((n) => n !== l.name);
      const { formerNames: _stale, ...link } = l;
      return former?.length ? { ...link, formerNames: former } : link;
    });
  }

  forget(index: number): void {
    this.byIndex.delete(index);
  }
}

/**
 * The link named `name`, or else (`followRenames`) the one most recently renamed
 * away from it: deletions follow a rename, additions never do.
 */
export function linkNamed(links: readonly KernelLink[], name: string, followRenames: boolean): KernelLink | undefined {
  const now = links.find((l) => l.name === name);
  if (now || !followRenames) return now;
  return links
    .filter((l) => l.formerNames?.includes(name))
    .sort((a, b) => b.formerNames!.lastIndexOf(name) - a.formerNames!.lastIndexOf(name))[0];
}
