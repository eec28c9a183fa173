import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** One benchmark figure: throughput and latency distribution over `count` operations. */
export interface Measurement {
  name: string;
  count: number;
  opsPerSecond: number;
  /**
   * The rate of the fastest tenth of the run (ten equal slices of the operations, by completion).
   * On a machine shared with other work, whole-run rates swing with whatever else runs; the best
   * slice is the rate this code reaches when it has a core, so ratios use it where measured.
   */
  bestOpsPerSecond?: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Longest the event loop was held during the run (ms), from monitorEventLoopDelay. */
  maxLoopBlockMs: number;
  /** Mean time per call spent before the call returned its promise (ms): the loop block per call. */
  syncPartMs: number;
}

export interface MeasureOptions {
  /** Operations run back to back (after `warmup`). */
  count: number;
  warmup?: number;
  /** Operations in flight at once; 1 measures latency cleanly. */
  concurrency?: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Run `operation` `count` times and measure it. */
export async function measure(
  name: string,
  operation: () => Promise<unknown> | unknown,
  { count, warmup = Math.min(200, Math.ceil(count / 10)), concurrency = 1 }: MeasureOptions,
): Promise<Measurement> {
  for (let i = 0; i < warmup; i += 1) await operation();
  const latencies: number[] = new Array(count);
  const finishedAt: number[] = new Array(count);
  let syncTotal = 0;
  let next = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      const t0 = performance.now();
      const pending = operation();
      syncTotal += performance.now() - t0;
      await pending;
      const t1 = performance.now();
      latencies[index] = t1 - t0;
      finishedAt[index] = t1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - started;
  loop.disable();
  latencies.sort((a, b) => a - b);
  return {
    name,
    count,
    opsPerSecond: count / (elapsed / 1000),
    ...(count >= 100 ? { bestOpsPerSecond: bestSliceRate(started, finishedAt) } : {}),
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    maxLoopBlockMs: loop.max / 1e6,
    syncPartMs: syncTotal / count,
  };
}

/** The highest rate over ten equal slices of the operations, ordered by when they finished. */
function bestSliceRate(started: number, finishedAt: number[]): number {
  const finished = [...finishedAt].sort((a, b) => a - b);
  const size = Math.floor(finished.length / 10);
  let best = 0;
  for (let slice = 0; slice < 10; slice += 1) {
    const from = slice === 0 ? started : finished[slice * size - 1]!;
    const to = finished[(slice + 1) * size - 1]!;
    if (to > from) best = Math.max(best, size / ((to - from) / 1000));
  }
  return best;
}

/** The rate a ratio compares: the best slice where measured, else the whole run's. */
export function comparedRate(measurement: Measurement): number {
  return measurement.bestOpsPerSecond ?? measurement.opsPerSecond;
}

/** A ratio of two measured rates, with what it is compared against and the goal if any. */
export interface Ratio {
  name: string;
  value: number;
  of: string;
  against: string;
  goal?: { atLeast: number };
  met?: boolean;
}

export function ratio(name: string, of: Measurement, against: Measurement, goal?: { atLeast: number }): Ratio {
  const value = comparedRate(of) / comparedRate(against);
  return { name, value, of: of.name, against: against.name, ...(goal ? { goal, met: value >= goal.atLeast } : {}) };
}
