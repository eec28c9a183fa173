import type { Database } from 'better-sqlite3';
import type { RowCache } from './row-cache.js';
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

/** Versions at most this long are cached (a value is at most 256 KiB; most are a few dozen bytes). */
const maxCachedCiphertext = 16 * 1024;

/**
 * Returns the repository, `forget`, which drops cached rows (a vault's delete cascades to them),
 * and `forgetRow`, which drops one secret's row (another connection counted its accesses).
 */
export function createSecretRepository(
  db: Database,
  cache: RowCache,
): SecretRepository & { forget(): void; forgetRow(secretId: string): void } {
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
  const addAccessCount = db
    .prepare<[number, string], number>(
      `UPDATE secrets SET access_count = access_count + ? WHERE id = ? RETURNING access_count`,
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

  // Secrets by id, and the id at a vault and path (a hint: the row by id is the truth, so a
  // purged or replaced secret is read again). Versions by secret and number; a version's
  // ciphertext and wrapped key never change, only `disabledAt`.
  const byId = cache.rows<SecretRow>(10_000);
  const idAtPath = cache.rows<string>(10_000);
  const versions = cache.rows<SecretVersionRow>(10_000);
  const pathKey = (vaultId: string, path: string) => `${vaultId}\n${path}`;
  const versionKey = (secretId: string, version: number) => `${secretId}\n${version}`;
  const changed = (secretId: string, changes: number) => {
    byId.delete(secretId);
    return changes > 0;
  };
  const loadByPath = (vaultId: string, path: string) => {
    const row = getSecretByPath.get(vaultId, path);
    if (row && cache.usable()) {
      byId.set(row.id, row);
      idAtPath.set(pathKey(vaultId, path), row.id);
    }
    return row;
  };

  return {
    insertSecret: (secret) => void insertSecret.run(secret),
    getSecretById: (id) => byId.get(id, () => getSecretById.get(id)),
    getSecretByPath: (vaultId, path) => {
      if (!cache.usable()) return getSecretByPath.get(vaultId, path);
      const id = idAtPath.peek(pathKey(vaultId, path));
      const row = id === undefined ? undefined : byId.peek(id);
      return row && row.vaultId === vaultId && row.path === path ? row : loadByPath(vaultId, path);
    },
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
    nextVersion: (secretId, updatedAt) => {
      byId.delete(secretId);
      return nextVersion.get(updatedAt, secretId);
    },
    insertVersion: (version) => {
      versions.delete(versionKey(version.secretId, version.version));
      insertVersion.run(version);
    },
    getVersion: (secretId, version) =>
      versions.get(
        versionKey(secretId, version),
        () => getVersion.get(secretId, version),
        (row) => row.ciphertext.length <= maxCachedCiphertext,
      ),
    listVersions: (secretId) => listVersions.all(secretId),
    disableVersion: (secretId, version, at) => {
      versions.delete(versionKey(secretId, version));
      return disableVersion.run(at, secretId, version).changes > 0;
    },
    setCurrentVersion: (secretId, version, updatedAt) =>
      changed(secretId, setCurrentVersion.run(version, updatedAt, secretId).changes),
    incrementAccessCount: (secretId) => {
      byId.delete(secretId);
      return incrementAccessCount.get(secretId);
    },
    addAccessCount: (secretId, reads) => {
      byId.delete(secretId);
      return addAccessCount.get(reads, secretId);
    },
    updateSecretMeta: (change) => changed(change.id, updateSecretMeta.run(change).changes),
    softDelete: (secretId, at) => changed(secretId, softDelete.run({ id: secretId, at }).changes),
    restore: (secretId, at) => changed(secretId, restore.run({ id: secretId, at }).changes),
    purge: (secretId) => {
      versions.clear();
      return changed(secretId, purge.run(secretId).changes);
    },
    forgetRow: (secretId) => byId.delete(secretId),
    forget: () => {
      byId.clear();
      idAtPath.clear();
      versions.clear();
    },
  };
}
