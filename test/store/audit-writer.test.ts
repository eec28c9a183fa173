import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { chainMac, genesisMac } from '../../main/store/audit-chain.js';
import { AuditWriterThread } from '../../main/store/audit-writer.js';
import type { AuditEventRow, DeferredAuditEntry } from '../../main/store/store.js';
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

function readEntry(secretId: string, n: number, outcome = 'success'): DeferredAuditEntry {
  return {
    event: {
      action: 'secret.read',
      actorType: 'agent',
      actorId: 'agent-1',
      vaultId: null,
      resourceType: 'secret',
      resourceId: secretId,
      path: 'api/key',
      outcome: outcome as 'success',
      ipAddress: null,
      createdAt: new Date(Date.UTC(2026, 10, 29, 8, 0, 0, n)).toISOString(),
    },
    details: { n },
    countAccessOf: secretId,
  };
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
    const failed: DeferredAuditEntry[][] = [];
    store.deferredAudit.writeLater([readEntry(secret.id, 1), readEntry(secret.id, 2)], key, (b) =>
      failed.push(b),
    );
    store.deferredAudit.writeLater([readEntry(secret.id, 3)], key, (b) => failed.push(b));
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
    const batches = Array.from({ length: 30 }, (_, b) =>
      Array.from({ length: 50 }, (_, i) => readEntry(secret.id, b * 50 + i)),
    );
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
    store.deferredAudit.writeLater([readEntry(secret.id, 1)], key, () => {});
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
    const failed: DeferredAuditEntry[][] = [];
    const bad = [readEntry(secret.id, 1), readEntry(secret.id, 2, 'not-an-outcome')];
    store.deferredAudit.writeLater(bad, randomBytes(32), (batch) => failed.push(batch));
    store.deferredAudit.settle();
    expect(failed).toEqual([bad]);
    expect(store.audit.last()).toBeUndefined();
    expect(store.secrets.getSecretById(secret.id)?.accessCount).toBe(0);
  });

  it('moves the row cache epoch on changes to cached rows, not on access counting', () => {
    const { store, file, secret } = storeWithSecret();
    const before = epochOf(file);
    store.deferredAudit.writeLater([readEntry(secret.id, 1)], randomBytes(32), () => {});
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
    const returned: DeferredAuditEntry[][] = [];
    const batch = [readEntry('secret-1', 1)];
    writer.writeLater(batch, randomBytes(32), (failed) => returned.push(failed));
    writer.settle();
    expect(returned).toEqual([batch]);
    expect(() => writer.writeLater(batch, randomBytes(32), () => {})).toThrow(/could not start/u);
    writer.close();
  });
});
