import type { Database } from 'better-sqlite3';
import type { RowCache } from './row-cache.js';
import type { PrincipalType, VaultRepository, VaultRow } from './store.js';

type StoredVault = Omit<VaultRow, 'strictMode'> & { strictMode: number };

const vaultColumns = `id, name, description, owner_type AS ownerType, owner_id AS ownerId,
  strict_mode AS strictMode, wrapped_key AS wrappedKey, created_at AS createdAt`;

function toVault(stored: StoredVault): VaultRow {
  return { ...stored, strictMode: stored.strictMode === 1 };
}

/**
 * `onDelete` runs when a vault goes, with its secrets, versions and policies (ON DELETE CASCADE):
 * the store drops those cached rows too.
 */
export function createVaultRepository(db: Database, cache: RowCache, onDelete: () => void): VaultRepository {
  const insert = db.prepare<StoredVault>(
    `INSERT INTO vaults (id, name, description, owner_type, owner_id, strict_mode, wrapped_key, created_at)
     VALUES (@id, @name, @description, @ownerType, @ownerId, @strictMode, @wrappedKey, @createdAt)`,
  );
  const get = db.prepare<[string], StoredVault>(`SELECT ${vaultColumns} FROM vaults WHERE id = ?`);
  const findByName = db.prepare<[PrincipalType, string, string], StoredVault>(
    `SELECT ${vaultColumns} FROM vaults WHERE owner_type = ? AND owner_id = ? AND name = ?`,
  );
  const list = db.prepare<[], StoredVault>(`SELECT ${vaultColumns} FROM vaults ORDER BY created_at, id`);
  const listByOwner = db.prepare<[PrincipalType, string], StoredVault>(
    `SELECT ${vaultColumns} FROM vaults WHERE owner_type = ? AND owner_id = ? ORDER BY created_at, id`,
  );
  const update = db.prepare<[string, string | null, string]>(
    `UPDATE vaults SET name = ?, description = ? WHERE id = ?`,
  );
  const setStrictMode = db.prepare<[number, string]>(`UPDATE vaults SET strict_mode = ? WHERE id = ?`);
  const setWrappedKey = db.prepare<[Buffer, string]>(`UPDATE vaults SET wrapped_key = ? WHERE id = ?`);
  const remove = db.prepare<[string]>(`DELETE FROM vaults WHERE id = ?`);
  const byId = cache.rows<VaultRow>(1000);
  /** Drops the cached row of a vault that a write changed, then returns whether it changed. */
  const changed = (id: string, changes: number) => {
    byId.delete(id);
    return changes > 0;
  };
  const countSecrets = db
    .prepare<[string], number>(`SELECT count(*) FROM secrets WHERE vault_id = ? AND deleted_at IS NULL`)
    .pluck();

  return {
    insert: (vault) => void insert.run({ ...vault, strictMode: Number(vault.strictMode) }),
    get: (id) =>
      byId.get(id, () => {
        const stored = get.get(id);
        return stored && toVault(stored);
      }),
    findByName: (ownerType, ownerId, name) => {
      const stored = findByName.get(ownerType, ownerId, name);
      return stored && toVault(stored);
    },
    list: () => list.all().map(toVault),
    listByOwner: (ownerType, ownerId) => listByOwner.all(ownerType, ownerId).map(toVault),
    update: ({ id, name, description }) => changed(id, update.run(name, description, id).changes),
    setStrictMode: (id, strictMode) => changed(id, setStrictMode.run(Number(strictMode), id).changes),
    setWrappedKey: (id, wrappedKey) => changed(id, setWrappedKey.run(wrappedKey, id).changes),
    delete: (id) => {
      onDelete();
      return changed(id, remove.run(id).changes);
    },
    countSecrets: (vaultId) => countSecrets.get(vaultId) ?? 0,
  };
}
