import type { Database } from 'better-sqlite3';
import type { RowCache } from './row-cache.js';
import type { PolicyRepository, PolicyRow, PrincipalType } from './store.js';

type StoredPolicy = Omit<PolicyRow, 'requireApproval'> & { requireApproval: number };

const policyColumns = `id, vault_id AS vaultId, principal_type AS principalType, principal_id AS principalId,
  secret_path_pattern AS secretPathPattern, permissions_json AS permissionsJson,
  conditions_json AS conditionsJson, effect, priority, require_approval AS requireApproval,
  expires_at AS expiresAt, created_by_type AS createdByType, created_by AS createdBy,
  created_at AS createdAt, updated_at AS updatedAt`;

const policyOrder = 'ORDER BY priority DESC, created_at, id';

function toPolicy(stored: StoredPolicy): PolicyRow {
  return { ...stored, requireApproval: stored.requireApproval === 1 };
}

/** Returns the repository and `forget`, which drops cached policies (a vault's delete cascades to them). */
export function createPolicyRepository(db: Database, cache: RowCache): PolicyRepository & { forget(): void } {
  const insert = db.prepare<StoredPolicy>(
    `INSERT INTO policies (id, vault_id, principal_type, principal_id, secret_path_pattern,
       permissions_json, conditions_json, effect, priority, require_approval, expires_at,
       created_by_type, created_by, created_at, updated_at)
     VALUES (@id, @vaultId, @principalType, @principalId, @secretPathPattern,
       @permissionsJson, @conditionsJson, @effect, @priority, @requireApproval, @expiresAt,
       @createdByType, @createdBy, @createdAt, @updatedAt)`,
  );
  const get = db.prepare<[string], StoredPolicy>(`SELECT ${policyColumns} FROM policies WHERE id = ?`);
  const listForVault = db.prepare<[string], StoredPolicy>(
    `SELECT ${policyColumns} FROM policies WHERE vault_id = ? ${policyOrder}`,
  );
  const listForPrincipal = db.prepare<[string, PrincipalType, string], StoredPolicy>(
    `SELECT ${policyColumns} FROM policies WHERE vault_id = ? AND principal_type = ? AND principal_id = ?
     ${policyOrder}`,
  );
  const listForPrincipalAllVaults = db.prepare<[PrincipalType, string], StoredPolicy>(
    `SELECT ${policyColumns} FROM policies WHERE principal_type = ? AND principal_id = ? ${policyOrder}`,
  );
  const update = db.prepare<Omit<StoredPolicy, 'vaultId' | 'createdByType' | 'createdBy' | 'createdAt'>>(
    `UPDATE policies SET principal_type = @principalType, principal_id = @principalId,
       secret_path_pattern = @secretPathPattern, permissions_json = @permissionsJson,
       conditions_json = @conditionsJson, effect = @effect, priority = @priority,
       require_approval = @requireApproval, expires_at = @expiresAt, updated_at = @updatedAt
     WHERE id = @id`,
  );
  const remove = db.prepare<[string]>(`DELETE FROM policies WHERE id = ?`);
  const deleteAllForPrincipal = db.prepare<[PrincipalType, string]>(
    `DELETE FROM policies WHERE principal_type = ? AND principal_id = ?`,
  );
  // A principal's policies in a vault, read by every request it makes; any policy write drops them all.
  const forPrincipal = cache.rows<readonly PolicyRow[]>(10_000);
  const written = <T>(result: T): T => {
    forPrincipal.clear();
    return result;
  };

  return {
    insert: (policy) =>
      void written(insert.run({ ...policy, requireApproval: Number(policy.requireApproval) })),
    get: (id) => {
      const stored = get.get(id);
      return stored && toPolicy(stored);
    },
    listForVault: (vaultId) => listForVault.all(vaultId).map(toPolicy),
    listForPrincipal: (vaultId, principalType, principalId) => {
      const rows = forPrincipal.get(`${vaultId}\n${principalType}\n${principalId}`, () =>
        listForPrincipal.all(vaultId, principalType, principalId).map((row) => Object.freeze(toPolicy(row))),
      );
      return [...rows!];
    },
    listForPrincipalAllVaults: (principalType, principalId) =>
      listForPrincipalAllVaults.all(principalType, principalId).map(toPolicy),
    update: (policy) =>
      written(update.run({ ...policy, requireApproval: Number(policy.requireApproval) }).changes > 0),
    delete: (id) => written(remove.run(id).changes > 0),
    deleteAllForPrincipal: (principalType, principalId) =>
      written(deleteAllForPrincipal.run(principalType, principalId).changes),
    forget: () => forPrincipal.clear(),
  };
}
