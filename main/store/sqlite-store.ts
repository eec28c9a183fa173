import Database from 'better-sqlite3';
import { createAgentRepository } from './agent-repository.js';
import { createApiKeyRepository } from './api-key-repository.js';
import { createApprovalRepository } from './approval-repository.js';
import { createAccessGrantRepository } from './grant-repository.js';
import { createShareRepository } from './share-repository.js';
import { createAuditRepository } from './audit-repository.js';
import { AuditWriterThread } from './audit-writer.js';
import { writeDeferredAudit } from './deferred-audit.js';
import { createMetaRepository } from './meta-repository.js';
import { migrate } from './migrations/index.js';
import { createPolicyRepository } from './policy-repository.js';
import { RowCache } from './row-cache.js';
import { createSecretRepository } from './secret-repository.js';
import { createThrottleRepository } from './throttle-repository.js';
import {
  createChainSettingRepository,
  createSigningKeyRepository,
  createTransactionRepository,
} from './transaction-repository.js';
import type { Store } from './store.js';
import { createUserRepository } from './user-repository.js';
import { createVaultRepository } from './vault-repository.js';

/** The SQLite store, with the upkeep that only a SQLite file needs (offline maintenance, backups). */
export interface SqliteStore extends Store {
  /** `PRAGMA integrity_check`: `ok`, or the problems found, one a line. */
  integrityCheck(): string;
  /**
   * Copies the write-ahead log into the database file and empties it, e.g. before a file copy.
   * False when a reader in another connection kept part of the log in use.
   */
  checkpoint(): boolean;
}

/**
 * Opens (creating if need be) the database file, brings its schema up to date and returns the
 * repositories over one connection. Refuses a file written by a newer Talon.
 *
 * WAL lets readers go on while one writer writes; `synchronous = FULL` makes a committed write
 * survive a power cut; `busy_timeout` makes a second process wait for the write lock, up to 5 s,
 * instead of failing at once.
 */
export function openSqliteStore(file: string): SqliteStore {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }

  const cache = new RowCache(db);
  const secrets = createSecretRepository(db, cache);
  const policies = createPolicyRepository(db, cache);
  const vaults = createVaultRepository(db, cache, () => {
    secrets.forget();
    policies.forget();
  });
  const audit = createAuditRepository(db);
  const auditWriter = new AuditWriterThread(file, (batch) => {
    for (const secretId of batch.accessesBySecret().keys()) secrets.forgetRow(secretId);
  });
  // Prepared once: a read's batched bookkeeping switches durability at every commit.
  const syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
  const syncFull = db.prepare('PRAGMA synchronous = FULL');
  const immediate = <T>(fn: () => T): T => {
    if (db.inTransaction) return db.transaction(fn).immediate();
    // Entries handed to the writer thread land before this transaction's (and it cannot take the
    // write lock while this connection holds it).
    auditWriter.settle();
    try {
      return db
        .transaction(() => {
          cache.ownWriteStarts();
          const result = fn();
          cache.ownWriteEnds();
          return result;
        })
        .immediate();
    } finally {
      cache.recheck();
    }
  };

  return {
    vaults,
    secrets,
    agents: createAgentRepository(db, cache),
    users: createUserRepository(db, cache),
    apiKeys: createApiKeyRepository(db, cache),
    policies,
    audit,
    meta: createMetaRepository(db),
    throttle: createThrottleRepository(db),
    approvals: createApprovalRepository(db),
    shares: createShareRepository(db),
    accessGrants: createAccessGrantRepository(db),
    signingKeys: createSigningKeyRepository(db),
    chainSettings: createChainSettingRepository(db),
    transactions: createTransactionRepository(db),
    deferredAudit: {
      writeNow: (batch, chainKey) => writeDeferredAudit({ audit, secrets }, batch, chainKey),
      writeLater: (batch, chainKey, onFailed) => auditWriter.writeLater(batch, chainKey, onFailed),
      settle: () => auditWriter.settle(),
    },
    // BEGIN IMMEDIATE takes the write lock first, so two writers queue (busy_timeout) instead of
    // both reading and then one failing to upgrade its read to a write.
    transaction: (fn, options) => {
      if (options?.durable !== false || db.inTransaction) return immediate(fn);
      // In WAL mode NORMAL skips the fsync at commit: a crash of Talon loses nothing, a power cut
      // may lose the last such commits, and neither corrupts the file.
      syncNormal.run();
      try {
        return immediate(fn);
      } finally {
        syncFull.run();
      }
    },
    integrityCheck: () =>
      (db.pragma('integrity_check') as { integrity_check: string }[])
        .map((row) => row.integrity_check)
        .join('\n'),
    checkpoint: () => {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result?.busy === 0;
    },
    close: () => {
      if (!db.open) return;
      auditWriter.close();
      db.pragma('optimize');
      db.close();
    },
  };
}
