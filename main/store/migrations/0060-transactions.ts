import type { Database } from 'better-sqlite3';

/**
 * The crypto transaction proxy: agents' token-held signing keys (only the label, address and
 * public key: the private key stays in the token), the RPC URLs the human configured per chain,
 * the transactions agents asked for, their daily totals per agent and chain (what guardrails
 * count, surviving restarts), and Idempotency-Key answers kept for 24 hours. Amounts in wei are
 * decimal text: they exceed 64 bits.
 */
export function updateToSchemaVersion0060(db: Database): void {
  db.exec(`
    CREATE TABLE agent_signing_keys (
      agent_id TEXT NOT NULL,
      family TEXT NOT NULL CHECK (family IN ('evm')),
      key_label TEXT NOT NULL UNIQUE,
      address TEXT NOT NULL,
      public_key BLOB NOT NULL,
      origin TEXT NOT NULL CHECK (origin IN ('generated', 'imported')),
      created_at TEXT NOT NULL,
      PRIMARY KEY (agent_id, family)
    ) STRICT;

    CREATE TABLE chain_settings (
      chain_id INTEGER PRIMARY KEY NOT NULL,
      rpc_url TEXT NOT NULL,
      updated_by TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE transactions (
      id TEXT PRIMARY KEY NOT NULL,
      agent_id TEXT NOT NULL,
      operation TEXT NOT NULL CHECK (operation IN ('submit', 'sign')),
      chain TEXT NOT NULL,
      chain_id INTEGER NOT NULL,
      from_address TEXT NOT NULL,
      to_address TEXT NOT NULL,
      value_wei TEXT NOT NULL,
      data TEXT NOT NULL,
      nonce INTEGER,
      gas_limit TEXT,
      tx_type INTEGER,
      gas_price TEXT,
      max_fee_per_gas TEXT,
      max_priority_fee_per_gas TEXT,
      status TEXT NOT NULL CHECK (status IN
        ('pending', 'signed', 'sign_only', 'broadcast', 'failed', 'simulation_failed')),
      signed_tx TEXT,
      tx_hash TEXT,
      error_message TEXT,
      simulation_json TEXT CHECK (simulation_json IS NULL OR json_valid(simulation_json)),
      approval_id TEXT,
      request_hash TEXT NOT NULL,
      signing_key_path TEXT,
      counted_day TEXT,
      created_at TEXT NOT NULL,
      signed_at TEXT,
      broadcast_at TEXT,
      receipt_status TEXT CHECK (receipt_status IS NULL OR receipt_status IN ('success', 'reverted')),
      block_number INTEGER,
      gas_used TEXT
    ) STRICT;
    CREATE INDEX transactions_by_agent ON transactions (agent_id, created_at);
    CREATE INDEX transactions_by_sender ON transactions (chain_id, from_address, nonce);

    CREATE TABLE tx_daily_totals (
      agent_id TEXT NOT NULL,
      chain_id INTEGER NOT NULL,
      day TEXT NOT NULL,
      value_wei TEXT NOT NULL,
      count INTEGER NOT NULL CHECK (count >= 0),
      PRIMARY KEY (agent_id, chain_id, day)
    ) STRICT;

    CREATE TABLE idempotency_keys (
      agent_id TEXT NOT NULL,
      key TEXT NOT NULL,
      request_hash TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
      status_code INTEGER,
      response_json TEXT CHECK (response_json IS NULL OR json_valid(response_json)),
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      PRIMARY KEY (agent_id, key)
    ) STRICT;
  `);
}
