import type { Database } from 'better-sqlite3';

/**
 * The human side: failed unlock, password and TOTP attempts, counted per subject so that a restart
 * does not reset the throttle; and the audit entries of attempts made while Talon was locked, when
 * the audit chain's key is not in memory, kept here until the next unlock appends them to the chain.
 */
export function updateToSchemaVersion0030(db: Database): void {
  db.exec(`
    CREATE TABLE auth_failures (
      subject TEXT PRIMARY KEY NOT NULL,
      failures INTEGER NOT NULL CHECK (failures >= 0),
      last_failure_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE locked_audit_events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      action TEXT NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
      details_json TEXT NOT NULL CHECK (json_valid(details_json)),
      ip_address TEXT,
      created_at TEXT NOT NULL
    ) STRICT;
  `);
}
