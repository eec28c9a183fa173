import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditBatch } from '../../main/store/audit-batch.js';
import { chainMac, genesisMac } from '../../main/store/audit-chain.js';
import { AuditWriterThread } from '../../main/store/audit-writer.js';
import type { AuditEventRow } from '../../main/store/store.js';
import { sampleAuditEvent, sampleSecret, sampleVault } from './sample-rows.js';
import { openTemporaryStore } from './temporary-store.js';

let dispose: () => void = () => {};
afterEach(() => dispose());

function storeWithSecret() {
  const opened = openTemporaryStore();
  dispose = opened.dispose;
  const vault = sampleVault();
  opened.store.vaults.insert(vault);
  const secret = sampleSecret(vault.id);
  opened.store.secrets.insertSecret(secret);
  return { ...opened, vault, secret };
}

/** A batch of reads of `secretId`, numbered `from`, `from + 1`, …; `outcomeOf` may spoil one. */
function readsOf(
  secretId: string,
  from: number,
  count = 1,
  outcomeOf = (_n: number) => 'success',
): AuditBatch {
  const batch = AuditBatch.empty();
  for (let n = from; n < from + count; n += 1) {
    batch.add(
      {
        action: 'secret.read',
        actor: { type: 'agent', id: 'agent-1' },
        outcome: outcomeOf(n) as 'success',
        resourceType: 'secret',
        resourceId: secretId,
        path: 'api/key',
        details: { n },
      },
      Date.UTC(2026, 10, 29, 8, 0, 0, n),
      secretId,
    );
  }
  return batch;
}

/** Every entry in chain order, checked link by link under `key`. */
function chainOf(rows: AuditEventRow[], key: Buffer): void {
  let previous = genesisMac;
  for (const row of rows) {
    expect(row.prevMac.equals(previous)).toBe(true);
    expect(row.mac.equals(chainMac(key, row))).toBe(true);
    previous = row.mac;
  }
}

const epochOf = (file: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT epoch FROM row_cache_epoch').pluck().get() as number;
  } finally {
    db.close();
  }
};

describe('the audit writer thread', () => {
  it('writes handed-over batches in order, chained, counting each read, and the cached count follows', () => {
    const { store, secret } = storeWithSecret();
    const key = randomBytes(32);
    expect(store.secrets.getSecretById(secret.id)?.accessCount).toBe(0); // now cached
    const failed: AuditBatch[] = [];
    store.deferredAudit.writeLater(readsOf(secret.id, 1, 2), key, (b) => failed.push(b));
    store.deferredAudit.writeLater(readsOf(secret.id, 3), key, (b) => failed.push(b));
    store.deferredAudit.settle();

    expect(failed).toEqual([]);
    const rows = [...store.audit.iterate()].flat();
    expect(rows.map((row) => JSON.parse(row.detailsJson))).toEqual([
      { n: 1, access_count: 1 },
      { n: 2, access_count: 2 },
      { n: 3, access_count: 3 },
    ]);
    chainOf(rows, key);
    expect(store.secrets.getSecretById(secret.id)?.accessCount).toBe(3);
  });

  it('keeps order and exact counts when far more batches come than may be in flight at once', () => {
    const { store, secret } = storeWithSecret();
    const key = randomBytes(32);
    const batches = Array.from({ length: 30 }, (_, b) => readsOf(secret.id, b * 50, 50));
    for (const batch of batches)
      store.deferredAudit.writeLater(batch, key, () => expect.fail('no batch fails'));
    store.deferredAudit.settle();
    const rows = [...store.audit.iterate()].flat();
    expect(rows.map((row) => JSON.parse(row.detailsJson) as { n: number; access_count: number })).toEqual(
      Array.from({ length: 1500 }, (_, n) => ({ n, access_count: n + 1 })),
    );
    chainOf(rows, key);
  });

  it("lands before the owner's next write transaction, which chains after it", () => {
    const { store, secret } = storeWithSecret();
    const key = randomBytes(32);
    store.deferredAudit.writeLater(readsOf(secret.id, 1), key, () => {});
    store.transaction(() => {
      const head = store.audit.last();
      const row = { ...sampleAuditEvent({ action: 'secret.write' }), prevMac: head?.mac ?? genesisMac };
      store.audit.append({ ...row, mac: chainMac(key, row) });
    });
    const rows = [...store.audit.iterate()].flat();
    expect(rows.map((row) => row.action)).toEqual(['secret.read', 'secret.write']);
    chainOf(rows, key);
  });

  it('gives a batch it could not write back whole, and writes nothing of it', () => {
    const { store, secret } = storeWithSecret();
    const failed: AuditBatch[] = [];
    const bad = readsOf(secret.id, 1, 2, (n) => (n === 2 ? 'not-an-outcome' : 'success'));
    store.deferredAudit.writeLater(bad, randomBytes(32), (batch) => failed.push(batch));
    store.deferredAudit.settle();
    expect(failed).toHaveLength(1);
    expect(failed[0]).toBe(bad);
    expect(store.audit.last()).toBeUndefined();
    expect(store.secrets.getSecretById(secret.id)?.accessCount).toBe(0);
  });

  it('moves the row cache epoch on changes to cached rows, not on access counting', () => {
    const { store, file, secret } = storeWithSecret();
    const before = epochOf(file);
    store.deferredAudit.writeLater(readsOf(secret.id, 1), randomBytes(32), () => {});
    store.deferredAudit.settle();
    store.secrets.addAccessCount(secret.id, 2);
    expect(epochOf(file)).toBe(before);
    store.secrets.softDelete(secret.id, new Date().toISOString());
    expect(epochOf(file)).toBeGreaterThan(before);
  });

  it('gives batches back and refuses more when its thread cannot open the database', () => {
    const writer = new AuditWriterThread('/nonexistent-folder/talon.db', () =>
      expect.fail('nothing is written'),
    );
    const returned: AuditBatch[] = [];
    const batch = readsOf('secret-1', 1);
    writer.writeLater(batch, randomBytes(32), (failed) => returned.push(failed));
    writer.settle();
    expect(returned).toHaveLength(1);
    expect(returned[0]).toBe(batch);
    expect(() => writer.writeLater(batch, randomBytes(32), () => {})).toThrow(/could not start/u);
    writer.close();
  });
});
