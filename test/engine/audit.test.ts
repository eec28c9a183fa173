import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentPrincipal } from '../../main/engine/principal.js';
import type { AuditEventRow } from '../../main/store/store.js';
import {
  type TestEngine,
  createTestEngine,
  expectTalonError,
  withRawDatabase,
} from '../fixtures/test-engine.js';

let t: TestEngine;
let vaultId: string;
let agent: AgentPrincipal;
const values: string[] = [];

beforeAll(async () => {
  t = await createTestEngine();
  vaultId = (await t.engine.vaults.create(t.owner, { name: 'audited' }, t.call())).id;
  const created = t.engine.agents.create(t.owner, { name: 'audited-agent' }, t.call());
  t.engine.policies.create(
    t.owner,
    vaultId,
    {
      principal_type: 'agent',
      principal_id: created.agent.id,
      secret_path_pattern: 'open/*',
      permissions: ['read'],
    },
    t.call(),
  );
  agent = (await t.engine.auth.authenticate(created.api_key, t.call())) as AgentPrincipal;
});

afterAll(async () => {
  await t?.cleanup();
});

/** Runs `work` and returns the audit entries it appended, oldest first. */
async function appendedBy(work: () => unknown): Promise<AuditEventRow[]> {
  const before = t.store.audit.last()?.seq ?? 0;
  try {
    await work();
  } catch {
    // Denials throw; the entries are what this looks at.
  }
  // A read's entry is handed to the audit writer thread with the next batch, a few milliseconds later.
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.store.deferredAudit.settle();
  return [...t.store.audit.iterate({ afterSeq: before })].flat();
}

describe('what is logged', () => {
  it('a put, a get and a delete each append one success entry', async () => {
    const value = 'audited-value-0001';
    values.push(value);
    const [written, ...restWrite] = await appendedBy(() =>
      t.engine.secrets.put(
        t.owner,
        vaultId,
        'open/one',
        { type: 'api_key', value },
        t.call({ requestId: 'req-1' }),
      ),
    );
    expect(restWrite).toEqual([]);
    expect(written).toMatchObject({
      action: 'secret.write',
      actorType: 'user',
      actorId: t.owner.id,
      outcome: 'success',
      vaultId,
      resourceType: 'secret',
      path: 'open/one',
      ipAddress: '127.0.0.1',
      createdAt: t.clock.now.toISOString(),
    });
    expect(JSON.parse(written!.detailsJson)).toMatchObject({
      version: 1,
      type: 'api_key',
      via: 'test',
      request_id: 'req-1',
    });

    const [readEntry, ...restRead] = await appendedBy(() =>
      t.engine.secrets.get(agent, vaultId, 'open/one', t.call()),
    );
    expect(restRead).toEqual([]);
    expect(readEntry).toMatchObject({
      action: 'secret.read',
      actorType: 'agent',
      actorId: agent.id,
      outcome: 'success',
      path: 'open/one',
    });
    expect(JSON.parse(readEntry!.detailsJson)).toMatchObject({ version: 1, access_count: 1 });

    const [deleted, ...restDelete] = await appendedBy(() =>
      t.engine.secrets.delete(t.owner, vaultId, 'open/one', t.call()),
    );
    expect(restDelete).toEqual([]);
    expect(deleted).toMatchObject({
      action: 'secret.delete',
      outcome: 'success',
      path: 'open/one',
      resourceId: written!.resourceId,
    });
  });

  it('a denial appends a denied entry with the reason', async () => {
    const value = 'audited-value-0002';
    values.push(value);
    await t.engine.secrets.put(t.owner, vaultId, 'closed/one', { value }, t.call());
    const entries = await appendedBy(() =>
      t.engine.secrets.get(agent, vaultId, 'closed/one', t.call({ ip: '10.9.8.7' })),
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      action: 'secret.read',
      actorId: agent.id,
      outcome: 'denied',
      path: 'closed/one',
      ipAddress: '10.9.8.7',
    });
    expect(JSON.parse(entries[0]!.detailsJson).reason).toContain('no policy grants');

    const writes = await appendedBy(() =>
      t.engine.secrets.put(agent, vaultId, 'open/planted', { value: 'planted' }, t.call()),
    );
    expect(writes.map((e) => [e.action, e.outcome])).toEqual([['secret.write', 'denied']]);
  });

  it('an agent reaching for a vault it cannot see leaves a denied entry too', async () => {
    const hidden = await t.engine.vaults.create(t.owner, { name: 'hidden' }, t.call());
    await t.engine.secrets.put(t.owner, hidden.id, 'x', { value: 'hidden-value' }, t.call());
    const entries = await appendedBy(() => t.engine.secrets.get(agent, hidden.id, 'x', t.call()));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      action: 'secret.read',
      actorId: agent.id,
      outcome: 'denied',
      vaultId: hidden.id,
      path: 'x',
    });
    const listing = await appendedBy(() => t.engine.secrets.list(agent, hidden.id, t.call()));
    expect(listing.map((e) => [e.action, e.outcome, e.vaultId])).toEqual([
      ['secret.list', 'denied', hidden.id],
    ]);
  });

  it('a refused key exchange names the right kind of actor', async () => {
    const personal = await appendedBy(() =>
      t.engine.auth.exchangeAgentToken({ api_key: t.ownerApiKey }, t.call()),
    );
    expect(personal.map((e) => [e.action, e.outcome, e.actorType, e.actorId])).toEqual([
      ['auth.agent_token', 'denied', 'user', t.owner.id],
    ]);
    const revoked = t.engine.auth.createPersonalKey(t.owner, 'to-revoke', t.call());
    t.store.apiKeys.revoke(revoked.id, t.clock.now.toISOString());
    const refused = await appendedBy(() => t.engine.auth.authenticate(revoked.api_key, t.call()));
    expect(refused.map((e) => [e.action, e.outcome, e.actorType, e.actorId])).toEqual([
      ['auth.api_key', 'denied', 'user', t.owner.id],
    ]);
    const unknown = await appendedBy(() =>
      t.engine.auth.authenticate('ocv_unknown-key-unknown-key-unknown-key-unkno', t.call()),
    );
    expect(unknown.map((e) => [e.action, e.outcome, e.actorType, e.actorId])).toEqual([
      ['auth.api_key', 'denied', 'anonymous', null],
    ]);
  });

  it('queryAudit compares time bounds in UTC whatever offset they are given in', () => {
    const newest = t.engine.queryAudit(t.owner, { limit: 1 }).events[0]!;
    const at = new Date(newest.created_at);
    // The same instant written two hours ahead of UTC.
    const ahead = new Date(at.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    const fromAhead = t.engine.queryAudit(t.owner, { from: ahead, limit: 1000 }).events;
    expect(fromAhead.map((event) => event.id)).toContain(newest.id);
    expect(fromAhead.every((event) => event.created_at >= newest.created_at)).toBe(true);
    // `to` is exclusive: compared as text without the conversion, the later-looking bound would include it.
    const toAhead = t.engine.queryAudit(t.owner, { to: ahead, limit: 1000 }).events;
    expect(toAhead.map((event) => event.id)).not.toContain(newest.id);
    expect(() => t.engine.queryAudit(t.owner, { from: 'yesterday' })).toThrow(
      /from: must be an ISO 8601 date-time/u,
    );
  });

  it('queryAudit lists entries newest first, filtered, for humans only', async () => {
    const result = t.engine.queryAudit(t.owner, { vaultId, outcome: 'denied' });
    expect(result.count).toBeGreaterThanOrEqual(2);
    expect(result.events.every((e) => e.outcome === 'denied' && e.vault_id === vaultId)).toBe(true);
    const seqs = result.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    await expectTalonError(() => t.engine.queryAudit(agent, {}), 'forbidden');
    await expectTalonError(() => t.engine.verifyAudit(agent), 'forbidden');
  });

  it('no entry holds a value', async () => {
    await t.engine.secrets.rotate(t.owner, vaultId, 'open/rotated', { length: 48 }, t.call());
    values.push((await t.engine.secrets.get(t.owner, vaultId, 'open/rotated', t.call())).value);
    const text = JSON.stringify(t.engine.queryAudit(t.owner, { limit: 1000 }).events);
    expect(text).toContain('open/rotated');
    for (const value of values) expect(text).not.toContain(value);
  });
});

describe('reads are recorded in batches', () => {
  it('counts and logs every one of many concurrent reads, in one batch, keeping each read time', async () => {
    await t.engine.secrets.put(
      t.owner,
      vaultId,
      'open/busy',
      { type: 'api_key', value: 'busy-value-0001' },
      t.call(),
    );
    const before = t.store.audit.last()!.seq;
    const readAt = t.clock.now.toISOString();
    await Promise.all(
      Array.from({ length: 100 }, () => t.engine.secrets.get(t.owner, vaultId, 'open/busy', t.call())),
    );
    t.clock.advance(60_000); // the batch is written later than the reads happened
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rows = [...t.store.audit.iterate({ afterSeq: before })].flat();
    expect(rows).toHaveLength(100);
    expect(rows.every((row) => row.action === 'secret.read' && row.createdAt === readAt)).toBe(true);
    expect(rows.map((row) => JSON.parse(row.detailsJson).access_count)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    expect(t.engine.secrets.describe(t.owner, vaultId, 'open/busy', t.call()).access_count).toBe(100);
    expect(t.engine.verifyAudit(t.owner)).toEqual({ ok: true, checked: expect.any(Number) });
  });

  it('lock writes the pending read entries before the keys are gone', async () => {
    const before = t.store.audit.last()!.seq;
    await t.engine.secrets.get(t.owner, vaultId, 'open/busy', t.call());
    await t.engine.lock(t.call());
    const rows = [...t.store.audit.iterate({ afterSeq: before })].flat();
    expect(rows.map((row) => row.action)).toEqual(['secret.read', 'talon.lock']);
    await t.engine.unlock(t.pin, t.call());
    expect(t.engine.verifyAudit(t.owner).ok).toBe(true);
  });
});

describe('the chain', () => {
  it('verifies whole, and a changed byte in details_json breaks it at that row', async () => {
    const verified = t.engine.verifyAudit(t.owner);
    const total = t.store.audit.count({});
    expect(verified).toEqual({ ok: true, checked: total });

    const target = t.engine.queryAudit(t.owner, { action: 'secret.write', limit: 1 }).events[0]!;
    const original = withRawDatabase(
      t.databaseFile,
      (db) =>
        (
          db.prepare(`SELECT details_json FROM audit_events WHERE seq = ?`).get(target.seq) as {
            details_json: string;
          }
        ).details_json,
    );
    const index = original.indexOf('"type":"') + 8;
    const tampered = `${original.slice(0, index)}${original[index] === 'x' ? 'y' : 'x'}${original.slice(index + 1)}`;
    expect(tampered).toHaveLength(original.length);
    withRawDatabase(t.databaseFile, (db) =>
      db.prepare(`UPDATE audit_events SET details_json = ? WHERE seq = ?`).run(tampered, target.seq),
    );

    const broken = t.engine.verifyAudit(t.owner);
    expect(broken).toMatchObject({ ok: false, brokenAt: target.seq });
    expect(broken.checked).toBe(
      [...t.store.audit.iterate()].flat().filter((row) => row.seq < target.seq).length,
    );

    withRawDatabase(t.databaseFile, (db) =>
      db.prepare(`UPDATE audit_events SET details_json = ? WHERE seq = ?`).run(original, target.seq),
    );
    expect(t.engine.verifyAudit(t.owner).ok).toBe(true);
  });

  it('a removed middle row breaks the chain at the row after it', async () => {
    const rows = [...t.store.audit.iterate()].flat();
    expect(rows.length).toBeGreaterThan(5);
    const middle = rows[Math.floor(rows.length / 2)]!;
    const next = rows[Math.floor(rows.length / 2) + 1]!;
    withRawDatabase(t.databaseFile, (db) =>
      db.prepare(`DELETE FROM audit_events WHERE seq = ?`).run(middle.seq),
    );
    const broken = t.engine.verifyAudit(t.owner);
    expect(broken).toMatchObject({ ok: false, brokenAt: next.seq });
    expect(broken.ok === false && broken.reason).toMatch(/removed or changed/);
    expect(broken.checked).toBe(Math.floor(rows.length / 2));
  });
});
