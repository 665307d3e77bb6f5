// Prometheus-style durations: 1h30m, 10s, 100ms.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds, or undefined if the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const m = PATTERN.exec(text);
  if (!m || text === '') return undefined;
  const [, d, h, min, s, ms] = m;
  return ['d', 'h', 'm', 's', 'ms'].reduce(
    (acc, unit, i) => acc + Number([d, h, min, s, ms][i] ?? 0) * UNITS[unit]!,
    0,
  );
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
