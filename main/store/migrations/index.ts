import type { Database } from 'better-sqlite3';
import { updateToSchemaVersion0010 } from './0010-initial.js';
import { updateToSchemaVersion0020 } from './0020-lean-audit-indexes.js';
import { updateToSchemaVersion0030 } from './0030-human-side.js';
import { updateToSchemaVersion0040 } from './0040-shares-and-approvals.js';
import { updateToSchemaVersion0060 } from './0060-transactions.js';
import { updateToSchemaVersion0070 } from './0070-row-cache-epoch.js';

export interface Migration {
  /** The `user_version` the database has once this migration ran. Numbers step by 10. */
  version: number;
  update(db: Database): void;
}

/** Every migration, oldest first. Never edit a released one: add the next number. */
export const migrations: readonly Migration[] = [
  { version: 10, update: updateToSchemaVersion0010 },
  { version: 20, update: updateToSchemaVersion0020 },
  { version: 30, update: updateToSchemaVersion0030 },
  { version: 40, update: updateToSchemaVersion0040 },
  { version: 60, update: updateToSchemaVersion0060 },
  { version: 70, update: updateToSchemaVersion0070 },
];

/** Throws unless the versions are positive integers that only grow. */
export function checkMigrationOrder(list: readonly Migration[]): void {
  let previous = 0;
  for (const { version } of list) {
    if (!Number.isInteger(version) || version <= previous) {
      throw new Error(
        `Migration ${version} is out of order: each number must be an integer above ${previous}.`,
      );
    }
    previous = version;
  }
}

export function schemaVersionOf(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to the newest schema: each pending migration runs in its own write
 * transaction together with the `user_version` it sets, so a failed one leaves the database at the
 * version before it. Another process migrating the same file at the same time is waited for, and
 * what it has done is not done again.
 */
export function migrate(db: Database, list: readonly Migration[] = migrations): void {
  checkMigrationOrder(list);
  const latest = list.at(-1)?.version ?? 0;
  const refuseNewer = (found: number): void => {
    if (found > latest) {
      throw new Error(
        `This database is at schema version ${found}, but this Talon knows only up to ${latest}: ` +
          'this database was written by a newer Talon; upgrade Talon.',
      );
    }
  };
  const current = schemaVersionOf(db);
  refuseNewer(current);
  for (const migration of list) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      const found = schemaVersionOf(db);
      refuseNewer(found);
      if (found >= migration.version) return;
      migration.update(db);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
