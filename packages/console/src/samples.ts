/** Timed samples per key, kept for `windowMs`: the DLQ growth rate and the lag chart. */
export interface Samples<T> {
  add(key: string, at: number, value: T): void;
  all(): Record<string, ({ at: number } & (T extends object ? T : { value: T }))[]>;
  /** Growth per minute of `measure` between the oldest and newest sample, or null before two samples a second apart. */
  ratePerMinute(key: string, measure: (value: T) => number): number | null;
}

export function createSamples<T>(windowMs: number): Samples<T> {
  const series = new Map<string, { at: number; value: T }[]>();
  return {
    add(key, at, value) {
      const list = series.get(key) ?? [];
      list.push({ at, value });
      while (list.length > 0 && list[0]!.at < at - windowMs) list.shift();
      series.set(key, list);
    },
    all() {
      const out: Record<string, unknown[]> = {};
      for (const [key, list] of series) out[key] = list.map(({ at, value }) => (typeof value === 'object' && value !== null ? { at, ...value } : { at, value }));
      return out as ReturnType<Samples<T>['all']>;
    },
    ratePerMinute(key, measure) {
      const list = series.get(key) ?? [];
      const first = list[0];
      const last = list.at(-1);
      if (!first || !last || last.at - first.at < 1000) return null;
      return Math.round(((measure(last.value) - measure(first.value)) / ((last.at - first.at) / 60_000)) * 10) / 10;
    },
  };
}
