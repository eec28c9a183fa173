import type { Database } from 'better-sqlite3';
import type { RowCache } from './row-cache.js';
import type { ApiKeyRepository, ApiKeyRow, PrincipalType } from './store.js';

const apiKeyColumns = `id, principal_type AS principalType, principal_id AS principalId, name, prefix,
  key_hash AS keyHash, created_at AS createdAt, expires_at AS expiresAt, revoked_at AS revokedAt,
  last_used_at AS lastUsedAt`;

export function createApiKeyRepository(db: Database, cache: RowCache): ApiKeyRepository {
  const insert = db.prepare<ApiKeyRow>(
    `INSERT INTO api_keys (id, principal_type, principal_id, name, prefix, key_hash, created_at,
       expires_at, revoked_at, last_used_at)
     VALUES (@id, @principalType, @principalId, @name, @prefix, @keyHash, @createdAt,
       @expiresAt, @revokedAt, @lastUsedAt)`,
  );
  const get = db.prepare<[string], ApiKeyRow>(`SELECT ${apiKeyColumns} FROM api_keys WHERE id = ?`);
  const findByHash = db.prepare<[Buffer], ApiKeyRow>(
    `SELECT ${apiKeyColumns} FROM api_keys WHERE key_hash = ?`,
  );
  const listByPrincipal = db.prepare<[PrincipalType, string], ApiKeyRow>(
    `SELECT ${apiKeyColumns} FROM api_keys WHERE principal_type = ? AND principal_id = ?
     ORDER BY created_at, id`,
  );
  const revoke = db.prepare<[string, string]>(
    `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
  );
  const revokeAllForPrincipal = db.prepare<[string, PrincipalType, string]>(
    `UPDATE api_keys SET revoked_at = ? WHERE principal_type = ? AND principal_id = ? AND revoked_at IS NULL`,
  );
  const touchLastUsed = db.prepare<[string, string]>(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`);
  const remove = db.prepare<[string]>(`DELETE FROM api_keys WHERE id = ?`);
  const deleteAllForPrincipal = db.prepare<[PrincipalType, string]>(
    `DELETE FROM api_keys WHERE principal_type = ? AND principal_id = ?`,
  );
  // Looked up by hash on every request; any write to the keys drops them all (writes are rare).
  const byHash = cache.rows<ApiKeyRow>(10_000);
  const written = <T>(result: T): T => {
    byHash.clear();
    return result;
  };

  return {
    insert: (key) => void written(insert.run(key)),
    get: (id) => get.get(id),
    findByHash: (keyHash) => byHash.get(keyHash.toString('base64'), () => findByHash.get(keyHash)),
    listByPrincipal: (principalType, principalId) => listByPrincipal.all(principalType, principalId),
    revoke: (id, at) => written(revoke.run(at, id).changes > 0),
    revokeAllForPrincipal: (principalType, principalId, at) =>
      written(revokeAllForPrincipal.run(at, principalType, principalId).changes),
    touchLastUsed: (id, at) => written(touchLastUsed.run(at, id).changes > 0),
    delete: (id) => written(remove.run(id).changes > 0),
    deleteAllForPrincipal: (principalType, principalId) =>
      written(deleteAllForPrincipal.run(principalType, principalId).changes),
  };
}
