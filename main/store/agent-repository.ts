import type { Database } from 'better-sqlite3';
import type { RowCache } from './row-cache.js';
import type { AgentRepository, AgentRow } from './store.js';

type StoredAgent = Omit<AgentRow, 'cryptoProxyEnabled' | 'isActive'> & {
  cryptoProxyEnabled: number;
  isActive: number;
};

const agentColumns = `id, name, description, scopes_json AS scopesJson, vault_ids_json AS vaultIdsJson,
  crypto_proxy_enabled AS cryptoProxyEnabled, token_ttl_seconds AS tokenTtlSeconds,
  expires_at AS expiresAt, is_active AS isActive, created_by AS createdBy, created_at AS createdAt,
  updated_at AS updatedAt, last_active_at AS lastActiveAt, guardrails_json AS guardrailsJson`;

function toAgent(stored: StoredAgent): AgentRow {
  return { ...stored, cryptoProxyEnabled: stored.cryptoProxyEnabled === 1, isActive: stored.isActive === 1 };
}

function toStoredFlags(agent: Pick<AgentRow, 'cryptoProxyEnabled' | 'isActive'>) {
  return { cryptoProxyEnabled: Number(agent.cryptoProxyEnabled), isActive: Number(agent.isActive) };
}

export function createAgentRepository(db: Database, cache: RowCache): AgentRepository {
  const insert = db.prepare<StoredAgent>(
    `INSERT INTO agents (id, name, description, scopes_json, vault_ids_json, crypto_proxy_enabled,
       token_ttl_seconds, expires_at, is_active, created_by, created_at, updated_at, last_active_at,
       guardrails_json)
     VALUES (@id, @name, @description, @scopesJson, @vaultIdsJson, @cryptoProxyEnabled,
       @tokenTtlSeconds, @expiresAt, @isActive, @createdBy, @createdAt, @updatedAt, @lastActiveAt,
       @guardrailsJson)`,
  );
  const get = db.prepare<[string], StoredAgent>(`SELECT ${agentColumns} FROM agents WHERE id = ?`);
  const list = db.prepare<[], StoredAgent>(`SELECT ${agentColumns} FROM agents ORDER BY created_at, id`);
  const update = db.prepare<Omit<StoredAgent, 'createdBy' | 'createdAt' | 'lastActiveAt'>>(
    `UPDATE agents SET name = @name, description = @description, scopes_json = @scopesJson,
       vault_ids_json = @vaultIdsJson, crypto_proxy_enabled = @cryptoProxyEnabled,
       token_ttl_seconds = @tokenTtlSeconds, expires_at = @expiresAt, is_active = @isActive,
       updated_at = @updatedAt, guardrails_json = @guardrailsJson
     WHERE id = @id`,
  );
  const touchLastActive = db.prepare<[string, string]>(`UPDATE agents SET last_active_at = ? WHERE id = ?`);
  const remove = db.prepare<[string]>(`DELETE FROM agents WHERE id = ?`);
  const byId = cache.rows<AgentRow>(10_000);
  const changed = (id: string, changes: number) => {
    byId.delete(id);
    return changes > 0;
  };

  return {
    insert: (agent) => void insert.run({ ...agent, ...toStoredFlags(agent) }),
    get: (id) =>
      byId.get(id, () => {
        const stored = get.get(id);
        return stored && toAgent(stored);
      }),
    list: () => list.all().map(toAgent),
    update: (agent) => changed(agent.id, update.run({ ...agent, ...toStoredFlags(agent) }).changes),
    touchLastActive: (id, at) => changed(id, touchLastActive.run(at, id).changes),
    delete: (id) => changed(id, remove.run(id).changes),
  };
}
