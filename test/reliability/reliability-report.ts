/**
 * What each reliability scenario did, printed as `[reliability] <scenario>: key=value ...` lines
 * so that a run's closing note can quote them (counts, kills, inputs tried, latencies).
 */
export function report(scenario: string, facts: Record<string, unknown>): void {
  const shown = Object.entries(facts)
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  console.log(`[reliability] ${scenario}: ${shown}`);
}

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Percentiles of latencies in milliseconds (nearest rank), rounded to 0.01 ms. */
export function latencySummary(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (fraction: number) => {
    if (sorted.length === 0) return 0;
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
    return Math.round(sorted[rank]! * 100) / 100;
  };
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

/**
 * A time budget for a scenario: the machine may be shared and slow, so loops stop when the
 * budget is spent and report how far they got instead of timing out.
 */
export function timeBudget(milliseconds: number): { left(): number; spent(): boolean } {
  const end = Date.now() + milliseconds;
  return { left: () => Math.max(0, end - Date.now()), spent: () => Date.now() >= end };
}

/** A number from the environment (to run a scenario longer or shorter), else `fallback`. */
export function tunable(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
