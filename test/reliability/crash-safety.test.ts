import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report, timeBudget, tunable } from './reliability-report.js';
import { integrityCheck, openReadOnly } from './store-digest.js';
import { type ChildTalon, startChildTalon } from './talon-child.js';

/**
 * Crash safety: `talon serve` takes concurrent writes over REST and is killed with SIGKILL at a
 * random moment, many times. After each restart every acknowledged write (201) is there with its
 * value and version, a write cut off by the kill is either wholly there or not at all, the file
 * passes `PRAGMA integrity_check`, every version has its audit entry, and the chain verifies.
 *
 * TALON_RELIABILITY_KILLS sets the number of kills (default 16); the scenario stops early, and
 * says so, when its time budget runs out on a slow machine.
 */

const kills = tunable('TALON_RELIABILITY_KILLS', 16);
const budgetMs = tunable('TALON_RELIABILITY_CRASH_BUDGET_MS', 120_000);
const writers = 6;
const pathsPerWriter = 5;

interface Expected {
  vaultId: string;
  path: string;
  /** The last write acknowledged with 201. */
  acked?: { value: string; version: number };
  /** A write sent and not acknowledged before the kill: it may or may not have committed. */
  pending?: string;
}

let talon: ChildTalon;
const vaultIds: string[] = [];
const expected = new Map<string, Expected>();
const key = (vaultId: string, path: string) => `${vaultId}|${path}`;

beforeAll(async () => {
  // Six writers far outrun the default 600 requests a minute from one address.
  talon = await startChildTalon({ env: { TALON_RATE_LIMIT: '1000000' } });
  await talon.start();
  for (const [name, strict] of [
    ['crash-session', false],
    ['crash-strict', true],
  ] as const) {
    const created = await talon.request('POST', '/v1/vaults', { json: { name, strict_mode: strict } });
    expect(created.status).toBe(201);
    vaultIds.push(created.body.id as string);
  }
}, 120_000);

afterAll(async () => {
  await talon?.cleanup();
});

/** One writer: puts to its own paths one at a time until `stop`, recording what was sent and acknowledged. */
async function writeUntil(writer: number, cycle: number, stop: AbortSignal): Promise<number> {
  const vaultId = vaultIds[writer % vaultIds.length]!;
  let acknowledged = 0;
  for (let seq = 0; !stop.aborted; seq += 1) {
    const path = `crash/w${writer}/s${(seq * 7 + cycle) % pathsPerWriter}`;
    const entry = expected.get(key(vaultId, path)) ?? { vaultId, path };
    expected.set(key(vaultId, path), entry);
    const value = `value-${cycle}-${writer}-${seq}-${Math.random().toString(36).slice(2)}`;
    entry.pending = value;
    let answer;
    try {
      answer = await talon.request('PUT', `/v1/vaults/${vaultId}/secrets/${path}`, {
        json: { value, type: 'password' },
      });
    } catch {
      return acknowledged; // the connection died with the process
    }
    if (answer.status !== 201) throw new Error(`a write answered ${answer.status}: ${answer.text}`);
    expect(answer.body.version).toBe((entry.acked?.version ?? 0) + 1);
    entry.acked = { value, version: answer.body.version as number };
    entry.pending = undefined;
    acknowledged += 1;
  }
  return acknowledged;
}

/** After a restart: every secret holds its acknowledged write, or the whole write the kill cut off. */
async function checkEveryWrite(): Promise<{ checked: number; cutOffButCommitted: number }> {
  let cutOffButCommitted = 0;
  for (const entry of expected.values()) {
    const read = await talon.request('GET', `/v1/vaults/${entry.vaultId}/secrets/${entry.path}`);
    if (!entry.acked && read.status === 404) {
      entry.pending = undefined; // the first write of this path never committed
      continue;
    }
    expect(read.status, `${entry.path}: ${read.text}`).toBe(200);
    const { value, version } = read.body as { value: string; version: number };
    if (entry.pending !== undefined && value === entry.pending) {
      expect(version).toBe((entry.acked?.version ?? 0) + 1);
      entry.acked = { value, version };
      cutOffButCommitted += 1;
    } else {
      expect({ path: entry.path, value, version }).toEqual({
        path: entry.path,
        value: entry.acked?.value,
        version: entry.acked?.version,
      });
    }
    entry.pending = undefined;
  }
  for (const vaultId of vaultIds) {
    const listed = await talon.request('GET', `/v1/vaults/${vaultId}/secrets?limit=1000`);
    expect(listed.status).toBe(200);
    const versions = Object.fromEntries(
      (listed.body.secrets as { path: string; version: number }[]).map((s) => [s.path, s.version]),
    );
    const wanted = Object.fromEntries(
      [...expected.values()]
        .filter((entry) => entry.vaultId === vaultId && entry.acked)
        .map((entry) => [entry.path, entry.acked!.version]),
    );
    expect(versions).toEqual(wanted);
  }
  return { checked: expected.size, cutOffButCommitted };
}

/** The file as the killed process left it, through a read-only connection. */
function checkFile(): void {
  expect(integrityCheck(talon.databaseFile)).toBe('ok');
  const db = openReadOnly(talon.databaseFile);
  try {
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // No secret points at a version that is not there.
    const dangling = db
      .prepare(
        `SELECT count(*) FROM secrets s WHERE s.current_version > 0 AND NOT EXISTS
           (SELECT 1 FROM secret_versions v WHERE v.secret_id = s.id AND v.version = s.current_version)`,
      )
      .pluck()
      .get();
    expect(dangling).toBe(0);
    // Every version has its audit entry, and every audited write its version: one transaction.
    const versions = db
      .prepare(
        `SELECT s.vault_id || '|' || s.path || '|' || v.version FROM secret_versions v
           JOIN secrets s ON s.id = v.secret_id ORDER BY 1`,
      )
      .pluck()
      .all();
    const audited = db
      .prepare(
        `SELECT vault_id || '|' || path || '|' || json_extract(details_json, '$.version') FROM audit_events
           WHERE action = 'secret.write' AND outcome = 'success' ORDER BY 1`,
      )
      .pluck()
      .all();
    expect(audited).toEqual(versions);
  } finally {
    db.close();
  }
}

describe('crash safety', () => {
  it(
    'keeps every acknowledged write through repeated SIGKILLs under concurrent writes',
    async () => {
      const budget = timeBudget(budgetMs);
      let done = 0;
      let acknowledged = 0;
      let cutOffButCommitted = 0;
      let checks = 0;
      const killDelays: number[] = [];
      while (done < kills && !budget.spent()) {
        const stop = new AbortController();
        const writing = Array.from({ length: writers }, (_, writer) => writeUntil(writer, done, stop.signal));
        const delay = 100 + Math.floor(Math.random() * 900);
        killDelays.push(delay);
        await new Promise((resolve) => setTimeout(resolve, delay));
        const killed = talon.kill();
        stop.abort();
        const ended = await killed;
        expect(ended.code, 'the process was killed, not ended by itself').toBeNull();
        acknowledged += (await Promise.all(writing)).reduce((sum, count) => sum + count, 0);
        done += 1;

        checkFile();
        await talon.start();
        const checked = await checkEveryWrite();
        cutOffButCommitted += checked.cutOffButCommitted;
        checks += checked.checked;
        const verified = await talon.request('GET', '/v1/audit/verify');
        expect(verified.body).toMatchObject({ valid: true });
      }
      const finalVerify = await talon.request('GET', '/v1/audit/verify');
      report('crash-safety', {
        kills: done,
        kills_planned: kills,
        acknowledged_writes: acknowledged,
        cut_off_writes_found_committed: cutOffButCommitted,
        secrets: expected.size,
        secret_reads_checked: checks,
        kill_delays_ms: `${Math.min(...killDelays)}..${Math.max(...killDelays)}`,
        audit_entries_verified: finalVerify.body.checked,
        integrity_checks: done,
      });
      expect(done).toBeGreaterThanOrEqual(Math.min(kills, 5));
      expect(acknowledged).toBeGreaterThan(0);
    },
    budgetMs + 120_000,
  );
});
