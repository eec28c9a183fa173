import type { Database } from 'better-sqlite3';

/** The tables whose rows the store keeps in memory (row-cache.ts). */
const cachedTables = ['vaults', 'secret_versions', 'agents', 'users', 'api_keys', 'policies'] as const;

/** Every column of `secrets` but `access_count`, which reads' bookkeeping updates on its own. */
const secretColumnsButAccessCount = [
  'id',
  'vault_id',
  'path',
  'type',
  'metadata_json',
  'expires_at',
  'max_access_count',
  'current_version',
  'created_by_type',
  'created_by',
  'created_at',
  'updated_at',
  'deleted_at',
];

/**
 * A counter that every change to a cached row moves, whichever connection makes it: the row cache
 * compares it, where it used to compare `PRAGMA data_version`, to notice another connection's
 * writes. `data_version` also moved at every commit of the audit writer thread, which writes only
 * audit entries and access counters; with it the cache was dropped every few milliseconds.
 */
export function updateToSchemaVersion0070(db: Database): void {
  const bump = 'BEGIN UPDATE row_cache_epoch SET epoch = epoch + 1; END';
  db.exec(`
    CREATE TABLE row_cache_epoch (epoch INTEGER NOT NULL) STRICT;
    INSERT INTO row_cache_epoch (epoch) VALUES (0);
    ${cachedTables
      .flatMap((table) =>
        ['INSERT', 'UPDATE', 'DELETE'].map(
          (change) =>
            `CREATE TRIGGER ${table}_${change.toLowerCase()}_moves_epoch AFTER ${change} ON ${table} ${bump};`,
        ),
      )
      .join('\n')}
    CREATE TRIGGER secrets_insert_moves_epoch AFTER INSERT ON secrets ${bump};
    CREATE TRIGGER secrets_update_moves_epoch AFTER UPDATE OF ${secretColumnsButAccessCount.join(', ')} ON secrets ${bump};
    CREATE TRIGGER secrets_delete_moves_epoch AFTER DELETE ON secrets ${bump};
  `);
}
