import type { Database } from 'better-sqlite3';
import type { PrincipalType, VaultRepository, VaultRow } from './store.js';

type StoredVault = Omit<VaultRow, 'strictMode'> & { strictMode: number };

const vaultColumns = `id, name, description, owner_type AS ownerType, owner_id AS ownerId,
  strict_mode AS strictMode, wrapped_key AS wrappedKey, created_at AS createdAt`;

function toVault(stored: StoredVault): VaultRow {
  return { ...stored, strictMode: stored.strictMode === 1 };
}

export function createVaultRepository(db: Database): VaultRepository {
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
  const countSecrets = db
    .prepare<[string], number>(`SELECT count(*) FROM secrets WHERE vault_id = ? AND deleted_at IS NULL`)
    .pluck();

  return {
    insert: (vault) => void insert.run({ ...vault, strictMode: Number(vault.strictMode) }),
    get: (id) => {
      const stored = get.get(id);
      return stored && toVault(stored);
    },
    findByName: (ownerType, ownerId, name) => {
      const stored = findByName.get(ownerType, ownerId, name);
      return stored && toVault(stored);
    },
    list: () => list.all().map(toVault),
    listByOwner: (ownerType, ownerId) => listByOwner.all(ownerType, ownerId).map(toVault),
    update: ({ id, name, description }) => update.run(name, description, id).changes > 0,
    setStrictMode: (id, strictMode) => setStrictMode.run(Number(strictMode), id).changes > 0,
    setWrappedKey: (id, wrappedKey) => setWrappedKey.run(wrappedKey, id).changes > 0,
    delete: (id) => remove.run(id).changes > 0,
    countSecrets: (vaultId) => countSecrets.get(vaultId) ?? 0,
  };
}
