import type { Database } from 'better-sqlite3';

/**
 * Shares, the approval queue and the access windows a human grants from an approval.
 *
 * - `approvals`: one queue for everything a human must approve (agent shares, reads under
 *   `require_approval`, transactions, ...). `request_hash` binds an approval to exactly the request
 *   it approves; `used_at` makes it single-use.
 * - `shares`: a secret shared with a person, an agent or whoever holds the link. The value is never
 *   copied: an access decrypts the secret's version through the engine. `owner_user_id` is the
 *   human accountable for the share (the agent's creator for an agent's share), which the rate
 *   limit counts by, from this table, so it holds across restarts and transports.
 * - `access_grants`: "this agent may read this path until <time> / until lock", granted with an
 *   approval; every lock and unlock deletes them all.
 */
export function updateToSchemaVersion0040(db: Database): void {
  db.exec(`
    CREATE TABLE approvals (
      id TEXT PRIMARY KEY NOT NULL,
      action TEXT NOT NULL,
      target_type TEXT NOT NULL,
      target_id TEXT NOT NULL,
      vault_id TEXT,
      summary TEXT NOT NULL,
      details_json TEXT NOT NULL CHECK (json_valid(details_json)),
      risk_tier TEXT NOT NULL CHECK (risk_tier IN ('low', 'medium', 'high')),
      requester_type TEXT NOT NULL CHECK (requester_type IN ('user', 'agent')),
      requester_id TEXT NOT NULL,
      requester_name TEXT,
      requester_client TEXT,
      reason TEXT,
      request_hash TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
      decided_by TEXT,
      decided_at TEXT,
      decision_reason TEXT,
      expires_at TEXT NOT NULL,
      created_at TEXT NOT NULL,
      used_at TEXT
    ) STRICT;
    CREATE INDEX approvals_by_status ON approvals (status, expires_at);
    CREATE INDEX approvals_by_request ON approvals (request_hash, status);
    CREATE INDEX approvals_by_requester ON approvals (requester_type, requester_id);

    CREATE TABLE shares (
      id TEXT PRIMARY KEY NOT NULL,
      secret_id TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
      vault_id TEXT NOT NULL,
      path TEXT NOT NULL,
      version INTEGER CHECK (version IS NULL OR version >= 1),
      creator_type TEXT NOT NULL CHECK (creator_type IN ('user', 'agent')),
      creator_id TEXT NOT NULL,
      owner_user_id TEXT NOT NULL,
      recipient_type TEXT NOT NULL
        CHECK (recipient_type IN ('creator', 'user', 'agent', 'anyone_with_link', 'external_email')),
      recipient_id TEXT,
      recipient_email TEXT,
      max_access_count INTEGER NOT NULL CHECK (max_access_count >= 0),
      access_count INTEGER NOT NULL DEFAULT 0,
      expires_at TEXT NOT NULL,
      passphrase_hash TEXT,
      ip_allowlist_json TEXT CHECK (ip_allowlist_json IS NULL OR json_valid(ip_allowlist_json)),
      approval_id TEXT,
      accepted_at TEXT,
      declined_at TEXT,
      revoked_at TEXT,
      last_accessed_at TEXT,
      created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX shares_by_owner_time ON shares (owner_user_id, created_at);
    CREATE INDEX shares_by_creator ON shares (creator_type, creator_id);
    CREATE INDEX shares_by_recipient ON shares (recipient_id);

    CREATE TABLE access_grants (
      id TEXT PRIMARY KEY NOT NULL,
      principal_type TEXT NOT NULL CHECK (principal_type IN ('user', 'agent')),
      principal_id TEXT NOT NULL,
      vault_id TEXT NOT NULL,
      path TEXT NOT NULL,
      permission TEXT NOT NULL,
      approval_id TEXT NOT NULL,
      granted_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT
    ) STRICT;
    CREATE INDEX access_grants_by_principal ON access_grants (principal_type, principal_id, vault_id);
  `);
}
