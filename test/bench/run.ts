// `npm run bench`: every benchmark in one run, printed as a table and written to bench/.
// Each figure is a ratio against a baseline measured in the same run, or a latency distribution.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { KeyStore } from '../../hsm-bridge/index.js';
import { createTestToken, testPin, testTokenLabel } from '../fixtures/test-token.js';
import type { Measurement, Ratio } from './measure.js';
import { benchApi } from './api-bench.js';
import { benchEngine } from './engine-bench.js';
import { benchServe } from './serve-bench.js';
import { type SuiteResult, benchToken } from './token-bench.js';
import { benchTransactions } from './transaction-bench.js';

const scale = Number(process.env.TALON_BENCH_SCALE ?? '1');

function table(measurements: Measurement[]): string {
  const header =
    '| operation | N | ops/s | best-tenth ops/s | p50 ms | p95 ms | p99 ms | loop block/call ms | max loop delay ms |';
  const rows = measurements.map(
    (m) =>
      `| ${m.name} | ${m.count} | ${m.opsPerSecond.toFixed(0)} | ${m.bestOpsPerSecond?.toFixed(0) ?? ''} | ${m.p50Ms.toFixed(3)} | ${m.p95Ms.toFixed(3)} | ${m.p99Ms.toFixed(3)} | ${m.syncPartMs.toFixed(4)} | ${m.maxLoopBlockMs.toFixed(2)} |`,
  );
  return [header, '|---|---:|---:|---:|---:|---:|---:|---:|---:|', ...rows].join('\n');
}

function ratioTable(ratios: Ratio[]): string {
  const rows = ratios.map(
    (r) =>
      `| ${r.name} | ${r.value.toFixed(3)} | ${r.goal ? `≥ ${r.goal.atLeast}` : ''} | ${r.met === undefined ? '' : r.met ? 'met' : 'MISSED'} |`,
  );
  return ['| ratio | value | goal | |', '|---|---:|---:|---|', ...rows].join('\n');
}

const token = await createTestToken();
const results: SuiteResult[] = [];
/** Runs one suite; a suite that fails is reported as such and the others still run and are written. */
async function suite(name: string, run: () => Promise<SuiteResult>): Promise<void> {
  const started = performance.now();
  try {
    const result = await run();
    results.push({ ...result, notes: [...(result.notes ?? []), `suite took ${((performance.now() - started) / 1000).toFixed(0)} s`] });
  } catch (error) {
    console.error(`Suite ${name} failed:`, error);
    const reason = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
    results.push({ suite: name, measurements: [], ratios: [], notes: [`FAILED, not measured: ${reason}`] });
  }
}
try {
  const asyncStore = KeyStore.open({ tokenLabel: testTokenLabel, callMode: 'async' });
  await asyncStore.login(testPin);
  await suite('token', () => benchToken(token.keyStore, asyncStore, scale));
  asyncStore.close();
  await suite('engine', () => benchEngine(token.keyStore, token.dataDir, scale));
  await suite('api', () => benchApi(token.keyStore, token.dataDir, scale));
  await suite('transactions', () => benchTransactions(token.keyStore, token.dataDir, scale));
} finally {
  token.cleanup();
}
// A child `talon serve` with its own data folder and token (SoftHSM2 reads its configuration once
// per process, so it cannot share this process's token).
await suite('serve (child process)', () => benchServe(scale));

const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const markdown = [
  '# Talon benchmarks',
  '',
  `Measured ${new Date().toISOString()} on ${machine}. Scale ${scale}.`,
  '',
  'Ratios compare the best-tenth rates where they were measured (the rate of the fastest tenth of',
  "a run's operations): these machines are shared, and whole-run rates swing with other work.",
  'Rates measured by autocannon from a child process are whole-run rates on both sides.',
  ...results.flatMap((r) => [
    '',
    `## ${r.suite}`,
    '',
    table(r.measurements),
    '',
    ratioTable(r.ratios),
    ...(r.notes ?? []).map((note) => `\n- ${note}`),
  ]),
  '',
].join('\n');
mkdirSync('bench', { recursive: true });
writeFileSync('bench/results.json', `${JSON.stringify({ machine, scale, results }, null, 2)}\n`);
writeFileSync('bench/results.md', markdown);
console.log(markdown);
console.log('Written: bench/results.json, bench/results.md');
