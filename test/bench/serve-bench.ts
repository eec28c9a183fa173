// `talon serve` as a child process: cold start to the first served request and resident memory,
// idle and after 100,000 secrets, each next to a bare node:http server measured the same way in
// this run; and listing / prefix search over 100,000 secrets through REST.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore } from '../../main/store/sqlite-store.js';
import { type Measurement, measure } from './measure.js';
import type { SuiteResult } from './token-bench.js';

const pin = 'bench-serve-pin-8080';
const talonBin = join(process.cwd(), 'bin', 'talon.mjs');

const bareServer = `
const body = Buffer.from(JSON.stringify({ status: 'ok' }));
require('node:http').createServer((q, r) => { r.writeHead(200, { 'content-type': 'application/json' }); r.end(body); })
  .listen(0, '127.0.0.1', function () { console.log('serving on http://127.0.0.1:' + this.address().port); });
`;

/** Every child started, so that a failing run leaves none behind. */
const running = new Set<ChildProcess>();

interface Started {
  child: ChildProcess;
  url: string;
  /** Milliseconds from spawn to the first 200 answer to `firstRequest`. */
  toFirstAnswerMs: number;
}

function environment(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(TALON_|ONECLAW_|SOFTHSM2_CONF$|npm_)/u.test(name)) env[name] = value;
  }
  return { ...env, TALON_DATA_DIR: dataDir, TALON_HSM_PIN: pin, TALON_LOG_LEVEL: 'warn' };
}

/** Spawns `args`, waits for its "serving on <url>" line, then asks `path` until it answers 200. */
async function start(
  args: string[],
  env: NodeJS.ProcessEnv,
  path: string,
  headers: Record<string, string> = {},
): Promise<Started> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start in 120 s:\n${output}`)), 120_000);
    const look = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /serving on (http:\/\/127\.0\.0\.1:\d+)/u.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)));
  });
  for (;;) {
    const response = await fetch(`${url}${path}`, { headers }).catch(() => undefined);
    if (response?.ok) {
      await response.arrayBuffer();
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { child, url, toFirstAnswerMs: performance.now() - started };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Resident set size of a process, MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/u.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Let the process settle (timers, lazy work), then read its RSS. */
async function settledRss(pid: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return rssMiB(pid);
}

function distribution(name: string, samplesMs: number[]): Measurement {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return {
    name,
    count: sorted.length,
    opsPerSecond: 1000 / mean,
    p50Ms: at(50),
    p95Ms: at(95),
    p99Ms: at(99),
    maxLoopBlockMs: 0,
    syncPartMs: 0,
  };
}

async function runSpawn(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}: ${stderr}`);
}

export async function benchServe(scale: number): Promise<SuiteResult> {
  const starts = Math.max(1, Math.round(3 * Math.min(1, scale)));
  const total = Math.max(1000, Math.round(100_000 * Math.min(1, scale)));
  const dataDir = mkdtempSync(join(tmpdir(), 'talon-bench-serve-'));
  const env = environment(dataDir);
  const notes: string[] = [];
  try {
    await runSpawn([talonBin, 'init'], env);
    const ownerKey = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
    const auth = { authorization: `Bearer ${ownerKey}` };

    const bareStarts: number[] = [];
    const talonStarts: number[] = [];
    let bareIdle = Number.NaN;
    let talonIdle = Number.NaN;
    for (let i = 0; i < starts; i += 1) {
      const bare = await start(['-e', bareServer], env, '/');
      bareStarts.push(bare.toFirstAnswerMs);
      if (i === 0) bareIdle = await settledRss(bare.child.pid!);
      await stop(bare.child);
      const talon = await start([talonBin, 'serve', '--port', '0'], env, '/v1/vaults', auth);
      talonStarts.push(talon.toFirstAnswerMs);
      if (i === 0) talonIdle = await settledRss(talon.child.pid!);
      await stop(talon.child);
    }

    // 100,000 secrets in one vault, made through the API's vault route and the store (offline,
    // while Talon is stopped: listing reads no value, so the rows need no versions).
    let talon = await start([talonBin, 'serve', '--port', '0'], env, '/v1/vaults', auth);
    const created = await fetch(`${talon.url}/v1/vaults`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'big' }),
    });
    const vault = (await created.json()) as { id: string; created_by?: string };
    await stop(talon.child);
    const store = openSqliteStore(join(dataDir, 'talon.db'));
    const owner = store.users.list().find((user) => user.role === 'owner')!;
    const populated = performance.now();
    store.transaction(() => {
      const now = new Date().toISOString();
      for (let i = 0; i < total; i += 1) {
        store.secrets.insertSecret({
          id: crypto.randomUUID(),
          vaultId: vault.id,
          path: `team-${i % 50}/service-${i}/api-key`,
          type: 'api_key',
          metadataJson: '{}',
          expiresAt: null,
          maxAccessCount: 0,
          currentVersion: 0,
          createdByType: 'user',
          createdBy: owner.id,
          createdAt: now,
          updatedAt: now,
        });
      }
    });
    store.close();
    notes.push(`populated ${total} secrets offline in ${(performance.now() - populated).toFixed(0)} ms`);

    talon = await start([talonBin, 'serve', '--port', '0'], env, '/v1/vaults', auth);
    const startWithBig = talon.toFirstAnswerMs;
    const secretsUrl = `${talon.url}/v1/vaults/${vault.id}/secrets`;
    const getJson = async (url: string) => {
      const response = await fetch(url, { headers: auth });
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      return (await response.json()) as { secrets: unknown[]; next_cursor: string | null };
    };
    // Every secret once, a page of 1000 at a time, as a client listing the whole vault would.
    const fullListing = performance.now();
    let listed = 0;
    let cursor: string | null = null;
    do {
      const page = await getJson(`${secretsUrl}?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      listed += page.secrets.length;
      cursor = page.next_cursor;
    } while (cursor);
    const fullListingMs = performance.now() - fullListing;
    const afterBig = await settledRss(talon.child.pid!);
    // talon serve admits 600 requests a minute per address (429 beyond): the listing above took
    // ~100, these take 2 × (100 + 5).
    const n = (count: number) => Math.max(50, Math.round(count * Math.min(1, scale)));
    const restFirst = await measure(`REST list first page (100) of ${total}, talon serve`, () => getJson(`${secretsUrl}?limit=100`), {
      count: n(100),
      warmup: 5,
    });
    const restPrefix = await measure(`REST prefix search 'team-7/service-7' in ${total}, talon serve`, () =>
      getJson(`${secretsUrl}?prefix=${encodeURIComponent('team-7/service-7')}&limit=100`), { count: n(100), warmup: 5 });
    await stop(talon.child);
    notes.push(
      `listed all ${listed} secrets through REST in pages of 1000: ${fullListingMs.toFixed(0)} ms`,
      `cold start to first answered request (GET /v1/vaults with the owner's key): talon serve p50 ${median(talonStarts).toFixed(0)} ms vs bare node:http ${median(bareStarts).toFixed(0)} ms (${(median(talonStarts) / median(bareStarts)).toFixed(1)}×, N=${starts} each); with ${total} secrets ${startWithBig.toFixed(0)} ms`,
      `RSS: talon serve idle ${talonIdle.toFixed(0)} MiB (goal < 150 MB ≈ 143 MiB: ${talonIdle < 143 ? 'met' : 'MISSED'}) vs bare node:http ${bareIdle.toFixed(0)} MiB (${(talonIdle / bareIdle).toFixed(1)}×); after listing ${total} secrets ${afterBig.toFixed(0)} MiB (+${(afterBig - talonIdle).toFixed(0)} MiB)`,
    );
    return {
      suite: 'serve (child process)',
      measurements: [
        distribution('cold start to first request, bare node:http', bareStarts),
        distribution('cold start to first request, talon serve', talonStarts),
        restFirst,
        restPrefix,
      ],
      ratios: [
        {
          name: 'cold start: talon serve / bare node:http (time, lower is better)',
          value: median(talonStarts) / median(bareStarts),
          of: 'cold start to first request, talon serve',
          against: 'cold start to first request, bare node:http',
        },
        {
          name: 'idle RSS: talon serve / bare node:http',
          value: talonIdle / bareIdle,
          of: `talon serve idle ${talonIdle.toFixed(0)} MiB`,
          against: `bare node:http idle ${bareIdle.toFixed(0)} MiB`,
        },
        {
          name: `RSS after ${total} secrets / idle RSS, talon serve`,
          value: afterBig / talonIdle,
          of: `${afterBig.toFixed(0)} MiB`,
          against: `${talonIdle.toFixed(0)} MiB`,
        },
      ],
      notes,
    };
  } finally {
    for (const child of running) await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
