import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../main/store/sqlite-store.js';
import type { AuditEventRow, NewAuditEvent } from '../../main/store/store.js';
import { sampleAuditEvent } from './sample-rows.js';
import { openTemporaryStore } from './temporary-store.js';

const vaultA = '01900000-0000-7000-8000-00000000000a';
const vaultB = '01900000-0000-7000-8000-00000000000b';
const agent = '01900000-0000-7000-8000-0000000000a1';
const user = '01900000-0000-7000-8000-0000000000b1';

/** Twelve events, one a minute from 10:00, cycling through vaults, actors, actions and outcomes. */
function twelveEvents(): NewAuditEvent[] {
  return Array.from({ length: 12 }, (_, i) =>
    sampleAuditEvent({
      vaultId: i % 3 === 2 ? null : i % 2 === 0 ? vaultA : vaultB,
      actorType: i % 4 === 0 ? 'user' : 'agent',
      actorId: i % 4 === 0 ? user : agent,
      action: i % 2 === 0 ? 'secret.read' : 'secret.write',
      outcome: i % 5 === 0 ? 'denied' : 'success',
      createdAt: `2026-01-01T10:${String(i).padStart(2, '0')}:00.000Z`,
    }),
  );
}

describe('audit repository', () => {
  let store: SqliteStore;
  let dispose: () => void;
  let events: AuditEventRow[];
  beforeEach(() => {
    ({ store, dispose } = openTemporaryStore());
    events = store.transaction(() =>
      twelveEvents().map((event) => ({ ...event, seq: store.audit.append(event) })),
    );
  });
  afterEach(() => dispose());

  const newestFirst = (rows: AuditEventRow[]) => [...rows].reverse();

  it('append in order and give the chain head', () => {
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(store.audit.last()).toEqual(events.at(-1));
    expect(() => store.audit.append(sampleAuditEvent({ id: events[0]?.id }))).toThrow(
      /UNIQUE constraint failed/,
    );
  });

  it('stream every entry in chain order, in batches, from any point', () => {
    const batches = [...store.audit.iterate({ batchSize: 5 })];
    expect(batches.map((batch) => batch.length)).toEqual([5, 5, 2]);
    expect(batches.flat()).toEqual(events);
    expect([...store.audit.iterate({ afterSeq: 10 })].flat()).toEqual(events.slice(10));
    expect([...store.audit.iterate({ afterSeq: 12 })]).toEqual([]);
    expect([...store.audit.iterate({ batchSize: 4 })].map((batch) => batch.length)).toEqual([4, 4, 4]);
  });

  it('query newest first, with each filter and their combination', () => {
    const all = newestFirst(events);
    expect(store.audit.query({ limit: 100 })).toEqual(all);
    expect(store.audit.query({ vaultId: vaultA, limit: 100 })).toEqual(
      all.filter((e) => e.vaultId === vaultA),
    );
    expect(store.audit.query({ actorId: user, limit: 100 })).toEqual(all.filter((e) => e.actorId === user));
    expect(store.audit.query({ actorType: 'agent', limit: 100 })).toEqual(
      all.filter((e) => e.actorType === 'agent'),
    );
    expect(store.audit.query({ action: 'secret.write', limit: 100 })).toEqual(
      all.filter((e) => e.action === 'secret.write'),
    );
    expect(store.audit.query({ outcome: 'denied', limit: 100 })).toEqual(
      all.filter((e) => e.outcome === 'denied'),
    );
    expect(
      store.audit.query({ from: '2026-01-01T10:03:00.000Z', to: '2026-01-01T10:06:00.000Z', limit: 100 }),
    ).toEqual(
      all.filter(
        (e) => e.createdAt >= '2026-01-01T10:03:00.000Z' && e.createdAt < '2026-01-01T10:06:00.000Z',
      ),
    );
    const combined = all.filter(
      (e) => e.vaultId === vaultA && e.actorId === agent && e.action === 'secret.read',
    );
    expect(combined.length).toBeGreaterThan(0);
    expect(store.audit.query({ vaultId: vaultA, actorId: agent, action: 'secret.read', limit: 100 })).toEqual(
      combined,
    );
    expect(store.audit.query({ vaultId: 'no-such-vault', limit: 100 })).toEqual([]);
  });

  it('page with limit and offset, and count the same filter', () => {
    const all = newestFirst(events);
    expect(store.audit.query({ limit: 5 })).toEqual(all.slice(0, 5));
    expect(store.audit.query({ limit: 5, offset: 10 })).toEqual(all.slice(10));
    const agentEvents = all.filter((e) => e.actorId === agent);
    expect(store.audit.query({ actorId: agent, limit: 2, offset: 2 })).toEqual(agentEvents.slice(2, 4));
    expect(store.audit.count({})).toBe(12);
    expect(store.audit.count({ actorId: agent })).toBe(agentEvents.length);
    expect(store.audit.count({ vaultId: vaultB, outcome: 'success' })).toBe(
      all.filter((e) => e.vaultId === vaultB && e.outcome === 'success').length,
    );
    expect(() => store.audit.query({ limit: -1 })).toThrow(RangeError);
  });

  it('keep the MACs byte for byte', () => {
    const head = store.audit.last();
    const next = sampleAuditEvent({ prevMac: head?.mac ?? Buffer.alloc(0) });
    const seq = store.audit.append(next);
    expect(store.audit.last()).toEqual({ ...next, seq });
    expect(store.audit.last()?.prevMac.equals(head?.mac ?? Buffer.alloc(1))).toBe(true);
  });
});
