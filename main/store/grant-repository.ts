import type { Database } from 'better-sqlite3';
import type { PrincipalType } from './store.js';

/** A window a human opened from an approval: this principal may use this path until `expiresAt` or the next lock. */
export interface AccessGrantRow {
  id: string;
  principalType: PrincipalType;
  principalId: string;
  vaultId: string;
  path: string;
  permission: string;
  approvalId: string;
  grantedBy: string;
  createdAt: string;
  /** Null: until the next lock. */
  expiresAt: string | null;
}

export interface AccessGrantRepository {
  insert(grant: AccessGrantRow): void;
  get(id: string): AccessGrantRow | undefined;
  /** Oldest first. */
  list(): AccessGrantRow[];
  /** A grant for exactly this request that has not expired at `now`. */
  findActive(
    principalType: PrincipalType,
    principalId: string,
    vaultId: string,
    path: string,
    permission: string,
    now: string,
  ): AccessGrantRow | undefined;
  delete(id: string): boolean;
  /** Removes every grant; returns how many there were. */
  deleteAll(): number;
}

const columns = `id, principal_type AS principalType, principal_id AS principalId, vault_id AS vaultId,
  path, permission, approval_id AS approvalId, granted_by AS grantedBy, created_at AS createdAt,
  expires_at AS expiresAt`;

export function createAccessGrantRepository(db: Database): AccessGrantRepository {
  const insert = db.prepare<AccessGrantRow>(
    `INSERT INTO access_grants (id, principal_type, principal_id, vault_id, path, permission,
       approval_id, granted_by, created_at, expires_at)
     VALUES (@id, @principalType, @principalId, @vaultId, @path, @permission,
       @approvalId, @grantedBy, @createdAt, @expiresAt)`,
  );
  const get = db.prepare<[string], AccessGrantRow>(`SELECT ${columns} FROM access_grants WHERE id = ?`);
  const list = db.prepare<[], AccessGrantRow>(`SELECT ${columns} FROM access_grants ORDER BY created_at, id`);
  const findActive = db.prepare<[string, string, string, string, string, string], AccessGrantRow>(
    `SELECT ${columns} FROM access_grants
     WHERE principal_type = ? AND principal_id = ? AND vault_id = ? AND path = ? AND permission = ?
       AND (expires_at IS NULL OR expires_at > ?)
     LIMIT 1`,
  );
  const remove = db.prepare<[string]>(`DELETE FROM access_grants WHERE id = ?`);
  const removeAll = db.prepare(`DELETE FROM access_grants`);
  return {
    insert: (grant) => void insert.run(grant),
    get: (id) => get.get(id),
    list: () => list.all(),
    findActive: (principalType, principalId, vaultId, path, permission, now) =>
      findActive.get(principalType, principalId, vaultId, path, permission, now),
    delete: (id) => remove.run(id).changes > 0,
    deleteAll: () => removeAll.run().changes,
  };
}
