// mulberry32: a small seeded generator, so fuzz runs and fault campaigns replay exactly.

export type Rng = () => number;

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function below(r: Rng, n: number): number {
  return Math.floor(r() * n);
}

export function pick<T>(r: Rng, items: readonly T[]): T {
  return items[below(r, items.length)]!;
}
