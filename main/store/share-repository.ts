import type { Database } from 'better-sqlite3';
import type { PrincipalType } from './store.js';

export type ShareRecipientType = 'creator' | 'user' | 'agent' | 'anyone_with_link' | 'external_email';

/** A share of one secret (see migration 0040). It holds no value: accesses decrypt the secret's version. */
export interface ShareRow {
  id: string;
  secretId: string;
  vaultId: string;
  path: string;
  /** The version delivered; null = whatever version is current at each access ("latest"). */
  version: number | null;
  creatorType: PrincipalType;
  creatorId: string;
  /** The human accountable: the creator, or an agent creator's own creator. */
  ownerUserId: string;
  recipientType: ShareRecipientType;
  /** The user or agent a targeted share is for (`creator` resolved to its user). */
  recipientId: string | null;
  recipientEmail: string | null;
  /** 0 = unlimited. */
  maxAccessCount: number;
  accessCount: number;
  expiresAt: string;
  /** scrypt of the passphrase, `scrypt$<salt b64>$<hash b64>`. */
  passphraseHash: string | null;
  ipAllowlistJson: string | null;
  /** The approval an agent's share waits for. */
  approvalId: string | null;
  acceptedAt: string | null;
  declinedAt: string | null;
  revokedAt: string | null;
  lastAccessedAt: string | null;
  createdAt: string;
}

export type NewShare = Omit<
  ShareRow,
  'accessCount' | 'acceptedAt' | 'declinedAt' | 'revokedAt' | 'lastAccessedAt'
>;

export interface ShareRepository {
  insert(share: NewShare): void;
  get(id: string): ShareRow | undefined;
  /** Newest first. */
  listByCreator(creatorType: PrincipalType, creatorId: string): ShareRow[];
  /** Targeted shares whose recipient is this user or agent, newest first. */
  listByRecipient(recipientType: 'user' | 'agent', recipientId: string): ShareRow[];
  /** Creation times of the owner's shares made at or after `since`, oldest first. */
  createdSince(ownerUserId: string, since: string): string[];
  /** False when already accepted, declined or revoked. */
  accept(id: string, at: string): boolean;
  decline(id: string, at: string): boolean;
  /** False when already revoked. */
  revoke(id: string, at: string): boolean;
  /** Counts one access and returns the new count (undefined when there is no such share). */
  countAccess(id: string, at: string): number | undefined;
}

const columns = `id, secret_id AS secretId, vault_id AS vaultId, path, version, creator_type AS creatorType,
  creator_id AS creatorId, owner_user_id AS ownerUserId, recipient_type AS recipientType,
  recipient_id AS recipientId, recipient_email AS recipientEmail, max_access_count AS maxAccessCount,
  access_count AS accessCount, expires_at AS expiresAt, passphrase_hash AS passphraseHash,
  ip_allowlist_json AS ipAllowlistJson, approval_id AS approvalId, accepted_at AS acceptedAt,
  declined_at AS declinedAt, revoked_at AS revokedAt, last_accessed_at AS lastAccessedAt,
  created_at AS createdAt`;

export function createShareRepository(db: Database): ShareRepository {
  const insert = db.prepare<NewShare>(
    `INSERT INTO shares (id, secret_id, vault_id, path, version, creator_type, creator_id, owner_user_id,
       recipient_type, recipient_id, recipient_email, max_access_count, expires_at, passphrase_hash,
       ip_allowlist_json, approval_id, created_at)
     VALUES (@id, @secretId, @vaultId, @path, @version, @creatorType, @creatorId, @ownerUserId,
       @recipientType, @recipientId, @recipientEmail, @maxAccessCount, @expiresAt, @passphraseHash,
       @ipAllowlistJson, @approvalId, @createdAt)`,
  );
  const get = db.prepare<[string], ShareRow>(`SELECT ${columns} FROM shares WHERE id = ?`);
  const listByCreator = db.prepare<[string, string], ShareRow>(
    `SELECT ${columns} FROM shares WHERE creator_type = ? AND creator_id = ? ORDER BY created_at DESC, id DESC`,
  );
  const listByRecipient = db.prepare<[string, string, string], ShareRow>(
    `SELECT ${columns} FROM shares
     WHERE recipient_id = ? AND (recipient_type = ? OR (recipient_type = 'creator' AND ? = 'user'))
     ORDER BY created_at DESC, id DESC`,
  );
  const createdSince = db.prepare<[string, string], { createdAt: string }>(
    `SELECT created_at AS createdAt FROM shares WHERE owner_user_id = ? AND created_at >= ? ORDER BY created_at`,
  );
  const accept = db.prepare<[string, string]>(
    `UPDATE shares SET accepted_at = ?
     WHERE id = ? AND accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL`,
  );
  const decline = db.prepare<[string, string]>(
    `UPDATE shares SET declined_at = ?
     WHERE id = ? AND accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL`,
  );
  const revoke = db.prepare<[string, string]>(
    `UPDATE shares SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
  );
  const countAccess = db.prepare<[string, string], { accessCount: number }>(
    `UPDATE shares SET access_count = access_count + 1, last_accessed_at = ? WHERE id = ?
     RETURNING access_count AS accessCount`,
  );
  return {
    insert: (share) => void insert.run(share),
    get: (id) => get.get(id),
    listByCreator: (creatorType, creatorId) => listByCreator.all(creatorType, creatorId),
    listByRecipient: (recipientType, recipientId) =>
      listByRecipient.all(recipientId, recipientType, recipientType),
    createdSince: (ownerUserId, since) => createdSince.all(ownerUserId, since).map((row) => row.createdAt),
    accept: (id, at) => accept.run(at, id).changes > 0,
    decline: (id, at) => decline.run(at, id).changes > 0,
    revoke: (id, at) => revoke.run(at, id).changes > 0,
    countAccess: (id, at) => countAccess.get(at, id)?.accessCount,
  };
}
