import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

/**
 * What a store holds, as a hash, read through a second, read-only connection (as a backup tool
 * would). Every table counts, new ones included, except what a mere read or a refusal changes on
 * purpose: the audit log (reads and denials are audited), its sealed head, the count of wrong
 * PINs and codes (the unlock throttle), and the "last used" and access-count columns.
 */
const readChangedTables = /audit|auth_failures/u;
const readChangedColumns = /^(last_|access_count$)/u;
const readChangedMetaKeys = /audit/u;

export interface StoreDigest {
  hash: string;
  /** Rows per table, to say what differs when the hash does. */
  rows: Record<string, number>;
}

export function openReadOnly(databaseFile: string): Database.Database {
  const db = new Database(databaseFile, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

export function storeDigest(databaseFile: string): StoreDigest {
  const db = openReadOnly(databaseFile);
  try {
    const hash = createHash('sha256');
    const rows: Record<string, number> = {};
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .pluck()
      .all() as string[];
    for (const table of tables) {
      if (readChangedTables.test(table)) continue;
      const columns = (db.pragma(`table_info("${table}")`) as { name: string }[])
        .map((column) => column.name)
        .filter((name) => !readChangedColumns.test(name));
      const list = columns.map((name) => `"${name}"`).join(', ');
      const all = db.prepare(`SELECT ${list} FROM "${table}" ORDER BY ${list}`).raw().all() as unknown[][];
      const kept = table === 'meta' ? all.filter((row) => !readChangedMetaKeys.test(String(row[0]))) : all;
      rows[table] = kept.length;
      hash.update(`${table}\n`);
      for (const row of kept) {
        hash.update(
          JSON.stringify(row, (_key, value: unknown) =>
            Buffer.isBuffer(value) ? value.toString('base64') : value,
          ),
        );
      }
    }
    return { hash: hash.digest('hex'), rows };
  } finally {
    db.close();
  }
}

/** `PRAGMA integrity_check` through a read-only connection: 'ok' or the problems found. */
export function integrityCheck(databaseFile: string): string {
  const db = openReadOnly(databaseFile);
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[])
      .map((row) => row.integrity_check)
      .join('\n');
  } finally {
    db.close();
  }
}
