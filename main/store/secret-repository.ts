import type { Database } from 'better-sqlite3';
import { secretPathRange, type SecretPathRange } from './secret-path-range.js';
import { statementsByShape } from './statements-by-shape.js';
import type {
  NewSecret,
  SecretListOptions,
  SecretMetaChange,
  SecretRepository,
  SecretRow,
  SecretVersionRow,
  SecretVersionSummary,
} from './store.js';

const secretColumns = `id, vault_id AS vaultId, path, type, metadata_json AS metadataJson,
  expires_at AS expiresAt, max_access_count AS maxAccessCount, access_count AS accessCount,
  current_version AS currentVersion, created_by_type AS createdByType, created_by AS createdBy,
  created_at AS createdAt, updated_at AS updatedAt, deleted_at AS deletedAt`;

const versionSummaryColumns = `secret_id AS secretId, version, type, value_length AS valueLength,
  created_by_type AS createdByType, created_by AS createdBy, created_at AS createdAt,
  disabled_at AS disabledAt`;

interface ListingShape {
  range: SecretPathRange;
  includeDeleted: boolean;
}

interface RangeParameters {
  vaultId: string;
  from: string;
  below: string | undefined;
}

/** `vault_id = ? AND path` within the range: an index range scan, never a scan of the vault. */
function pathRangeCondition(range: SecretPathRange, includeDeleted: boolean): string {
  return [
    'vault_id = @vaultId',
    `path ${range.fromInclusive ? '>=' : '>'} @from`,
    ...(range.below === undefined ? [] : ['path < @below']),
    ...(includeDeleted ? [] : ['deleted_at IS NULL']),
  ].join(' AND ');
}

/** The values for `pathRangeCondition`; `below` is bound only where the condition names it. */
function rangeParameters(vaultId: string, range: SecretPathRange): RangeParameters {
  return { vaultId, from: range.from, below: range.below };
}

export function createSecretRepository(db: Database): SecretRepository {
  const insertSecret = db.prepare<NewSecret>(
    `INSERT INTO secrets (id, vault_id, path, type, metadata_json, expires_at, max_access_count,
       current_version, created_by_type, created_by, created_at, updated_at)
     VALUES (@id, @vaultId, @path, @type, @metadataJson, @expiresAt, @maxAccessCount,
       @currentVersion, @createdByType, @createdBy, @createdAt, @updatedAt)`,
  );
  const getSecretById = db.prepare<[string], SecretRow>(`SELECT ${secretColumns} FROM secrets WHERE id = ?`);
  const getSecretByPath = db.prepare<[string, string], SecretRow>(
    `SELECT ${secretColumns} FROM secrets WHERE vault_id = ? AND path = ?`,
  );
  const listSecrets = statementsByShape<ListingShape, RangeParameters & { limit: number }, SecretRow>(
    db,
    ({ range, includeDeleted }) =>
      `SELECT ${secretColumns} FROM secrets WHERE ${pathRangeCondition(range, includeDeleted)}
       ORDER BY path LIMIT @limit`,
  );
  const countSecrets = statementsByShape<ListingShape, RangeParameters, { count: number }>(
    db,
    ({ range, includeDeleted }) =>
      `SELECT count(*) AS count FROM secrets WHERE ${pathRangeCondition(range, includeDeleted)}`,
  );
  const nextVersion = db
    .prepare<[string, string], number>(
      `UPDATE secrets SET current_version = current_version + 1, updated_at = ? WHERE id = ?
       RETURNING current_version`,
    )
    .pluck();
  const insertVersion = db.prepare<SecretVersionRow>(
    `INSERT INTO secret_versions (secret_id, version, type, ciphertext, wrapped_dek, value_length,
       created_by_type, created_by, created_at, disabled_at)
     VALUES (@secretId, @version, @type, @ciphertext, @wrappedDek, @valueLength,
       @createdByType, @createdBy, @createdAt, @disabledAt)`,
  );
  const getVersion = db.prepare<[string, number], SecretVersionRow>(
    `SELECT ${versionSummaryColumns}, ciphertext, wrapped_dek AS wrappedDek
     FROM secret_versions WHERE secret_id = ? AND version = ?`,
  );
  const listVersions = db.prepare<[string], SecretVersionSummary>(
    `SELECT ${versionSummaryColumns} FROM secret_versions WHERE secret_id = ? ORDER BY version`,
  );
  const disableVersion = db.prepare<[string, string, number]>(
    `UPDATE secret_versions SET disabled_at = ? WHERE secret_id = ? AND version = ? AND disabled_at IS NULL`,
  );
  const setCurrentVersion = db.prepare<[number, string, string]>(
    `UPDATE secrets SET current_version = ?, updated_at = ? WHERE id = ?`,
  );
  const incrementAccessCount = db
    .prepare<[string], number>(
      `UPDATE secrets SET access_count = access_count + 1 WHERE id = ? RETURNING access_count`,
    )
    .pluck();
  const updateSecretMeta = db.prepare<SecretMetaChange>(
    `UPDATE secrets SET type = @type, metadata_json = @metadataJson, expires_at = @expiresAt,
       max_access_count = @maxAccessCount, access_count = @accessCount, current_version = @currentVersion,
       updated_at = @updatedAt
     WHERE id = @id`,
  );
  const softDelete = db.prepare<{ id: string; at: string }>(
    `UPDATE secrets SET deleted_at = @at, updated_at = @at WHERE id = @id AND deleted_at IS NULL`,
  );
  const restore = db.prepare<{ id: string; at: string }>(
    `UPDATE secrets SET deleted_at = NULL, updated_at = @at WHERE id = @id AND deleted_at IS NOT NULL`,
  );
  const purge = db.prepare<[string]>(`DELETE FROM secrets WHERE id = ?`);

  return {
    insertSecret: (secret) => void insertSecret.run(secret),
    getSecretById: (id) => getSecretById.get(id),
    getSecretByPath: (vaultId, path) => getSecretByPath.get(vaultId, path),
    listSecrets: (vaultId, { prefix, after, limit, includeDeleted = false }: SecretListOptions) => {
      if (!Number.isSafeInteger(limit) || limit < 0) {
        throw new RangeError(`A secret listing needs a whole, non-negative limit, not ${limit}.`);
      }
      const range = secretPathRange({ prefix, after });
      return listSecrets({ range, includeDeleted }).all({ ...rangeParameters(vaultId, range), limit });
    },
    countSecrets: (vaultId, { prefix, includeDeleted = false } = {}) => {
      const range = secretPathRange({ prefix });
      return countSecrets({ range, includeDeleted }).get(rangeParameters(vaultId, range))?.count ?? 0;
    },
    nextVersion: (secretId, updatedAt) => nextVersion.get(updatedAt, secretId),
    insertVersion: (version) => void insertVersion.run(version),
    getVersion: (secretId, version) => getVersion.get(secretId, version),
    listVersions: (secretId) => listVersions.all(secretId),
    disableVersion: (secretId, version, at) => disableVersion.run(at, secretId, version).changes > 0,
    setCurrentVersion: (secretId, version, updatedAt) =>
      setCurrentVersion.run(version, updatedAt, secretId).changes > 0,
    incrementAccessCount: (secretId) => incrementAccessCount.get(secretId),
    updateSecretMeta: (change) => updateSecretMeta.run(change).changes > 0,
    softDelete: (secretId, at) => softDelete.run({ id: secretId, at }).changes > 0,
    restore: (secretId, at) => restore.run({ id: secretId, at }).changes > 0,
    purge: (secretId) => purge.run(secretId).changes > 0,
  };
}
