import type { Database } from 'better-sqlite3';

/**
 * The first schema. Tables are STRICT (a value of the wrong type is refused rather than stored);
 * ids are UUID text, times ISO-8601 UTC text, booleans 0/1, JSON columns text checked by
 * `json_valid`. Principals (users, agents) are referenced by type and id without a foreign key,
 * because one column may point at either table; the engine deletes what belongs to a principal.
 */
export function updateToSchemaVersion0010(db: Database): void {
  db.exec(`
    CREATE TABLE users (
      id TEXT PRIMARY KEY NOT NULL,
      email TEXT NOT NULL COLLATE NOCASE UNIQUE,
      display_name TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
      password_hash TEXT,
      totp_json TEXT CHECK (totp_json IS NULL OR json_valid(totp_json)),
      is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)),
      created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE agents (
      id TEXT PRIMARY KEY NOT NULL,
      name TEXT NOT NULL,
      description TEXT,
      scopes_json TEXT NOT NULL CHECK (json_valid(scopes_json)),
      vault_ids_json TEXT NOT NULL CHECK (json_valid(vault_ids_json)),
      crypto_proxy_enabled INTEGER NOT NULL CHECK (crypto_proxy_enabled IN (0, 1)),
      token_ttl_seconds INTEGER,
      expires_at TEXT,
      is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)),
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      last_active_at TEXT,
      guardrails_json TEXT CHECK (guardrails_json IS NULL OR json_valid(guardrails_json))
    ) STRICT;

    CREATE TABLE api_keys (
      id TEXT PRIMARY KEY NOT NULL,
      principal_type TEXT NOT NULL CHECK (principal_type IN ('user', 'agent')),
      principal_id TEXT NOT NULL,
      name TEXT NOT NULL,
      prefix TEXT NOT NULL,
      key_hash BLOB NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      expires_at TEXT,
      revoked_at TEXT,
      last_used_at TEXT
    ) STRICT;
    CREATE INDEX api_keys_by_principal ON api_keys (principal_type, principal_id);

    CREATE TABLE vaults (
      id TEXT PRIMARY KEY NOT NULL,
      name TEXT NOT NULL,
      description TEXT,
      owner_type TEXT NOT NULL CHECK (owner_type IN ('user', 'agent')),
      owner_id TEXT NOT NULL,
      strict_mode INTEGER NOT NULL CHECK (strict_mode IN (0, 1)),
      wrapped_key BLOB NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (owner_type, owner_id, name)
    ) STRICT;

    CREATE TABLE secrets (
      id TEXT PRIMARY KEY NOT NULL,
      vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      type TEXT NOT NULL,
      metadata_json TEXT NOT NULL CHECK (json_valid(metadata_json)),
      expires_at TEXT,
      max_access_count INTEGER NOT NULL DEFAULT 0 CHECK (max_access_count >= 0),
      access_count INTEGER NOT NULL DEFAULT 0,
      current_version INTEGER NOT NULL CHECK (current_version >= 0),
      created_by_type TEXT NOT NULL CHECK (created_by_type IN ('user', 'agent')),
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      deleted_at TEXT
    ) STRICT;
    -- Also the index that lists a vault in path order (keyset pagination, prefix ranges).
    CREATE UNIQUE INDEX secrets_by_vault_path ON secrets (vault_id, path);

    CREATE TABLE secret_versions (
      secret_id TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
      version INTEGER NOT NULL CHECK (version >= 1),
      type TEXT NOT NULL,
      ciphertext BLOB NOT NULL,
      wrapped_dek BLOB NOT NULL,
      value_length INTEGER NOT NULL,
      created_by_type TEXT NOT NULL CHECK (created_by_type IN ('user', 'agent')),
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      disabled_at TEXT,
      PRIMARY KEY (secret_id, version)
    ) STRICT;

    CREATE TABLE policies (
      id TEXT PRIMARY KEY NOT NULL,
      vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
      principal_type TEXT NOT NULL CHECK (principal_type IN ('user', 'agent')),
      principal_id TEXT NOT NULL,
      secret_path_pattern TEXT NOT NULL,
      permissions_json TEXT NOT NULL CHECK (json_valid(permissions_json)),
      conditions_json TEXT CHECK (conditions_json IS NULL OR json_valid(conditions_json)),
      effect TEXT NOT NULL CHECK (effect IN ('allow', 'deny')),
      priority INTEGER NOT NULL,
      require_approval INTEGER NOT NULL CHECK (require_approval IN (0, 1)),
      expires_at TEXT,
      created_by_type TEXT NOT NULL CHECK (created_by_type IN ('user', 'agent')),
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX policies_by_vault_principal ON policies (vault_id, principal_type, principal_id);
    CREATE INDEX policies_by_principal ON policies (principal_type, principal_id);

    -- No foreign keys: the log outlives the vaults and principals it names.
    CREATE TABLE audit_events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      action TEXT NOT NULL,
      actor_type TEXT NOT NULL,
      actor_id TEXT,
      vault_id TEXT,
      resource_type TEXT,
      resource_id TEXT,
      path TEXT,
      outcome TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
      details_json TEXT NOT NULL CHECK (json_valid(details_json)),
      ip_address TEXT,
      created_at TEXT NOT NULL,
      prev_mac BLOB NOT NULL,
      mac BLOB NOT NULL
    ) STRICT;
    -- Each index ends, implicitly, in seq: filtered queries read newest first without sorting.
    CREATE INDEX audit_events_by_vault ON audit_events (vault_id);
    CREATE INDEX audit_events_by_actor ON audit_events (actor_id);
    CREATE INDEX audit_events_by_action ON audit_events (action);
    CREATE INDEX audit_events_by_outcome ON audit_events (outcome);
    CREATE INDEX audit_events_by_created_at ON audit_events (created_at);

    CREATE TABLE meta (
      key TEXT PRIMARY KEY NOT NULL,
      value TEXT NOT NULL
    ) STRICT;
  `);
}
