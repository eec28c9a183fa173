import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../main/store/sqlite-store.js';
import type { VaultRow } from '../../main/store/store.js';
import { samplePolicy, sampleVault } from './sample-rows.js';
import { openTemporaryStore } from './temporary-store.js';

const agentId = '01900000-0000-7000-8000-0000000000a1';

describe('policy repository', () => {
  let store: SqliteStore;
  let dispose: () => void;
  let vault: VaultRow;
  let otherVault: VaultRow;
  beforeEach(() => {
    ({ store, dispose } = openTemporaryStore());
    [vault, otherVault] = [sampleVault(), sampleVault()];
    store.vaults.insert(vault);
    store.vaults.insert(otherVault);
  });
  afterEach(() => dispose());

  it('list policies by vault and principal, highest priority first', () => {
    const low = samplePolicy(vault.id, { principalId: agentId, priority: 1 });
    const high = samplePolicy(vault.id, {
      principalId: agentId,
      priority: 10,
      effect: 'deny',
      requireApproval: true,
    });
    const elsewhere = samplePolicy(otherVault.id, { principalId: agentId, priority: 5 });
    const someoneElse = samplePolicy(vault.id);
    for (const policy of [low, high, elsewhere, someoneElse]) store.policies.insert(policy);

    expect(store.policies.get(high.id)).toEqual(high);
    expect(store.policies.listForPrincipal(vault.id, 'agent', agentId)).toEqual([high, low]);
    expect(store.policies.listForPrincipal(vault.id, 'user', agentId)).toEqual([]);
    expect(store.policies.listForPrincipalAllVaults('agent', agentId)).toEqual([high, elsewhere, low]);
    expect(
      store.policies
        .listForVault(vault.id)
        .map((policy) => policy.id)
        .sort(),
    ).toEqual([low.id, high.id, someoneElse.id].sort());
  });

  it('update and delete policies, one or all of a principal', () => {
    const policy = samplePolicy(vault.id, { principalId: agentId });
    const another = samplePolicy(otherVault.id, { principalId: agentId });
    store.policies.insert(policy);
    store.policies.insert(another);
    const changed = {
      ...policy,
      secretPathPattern: 'prod/**',
      permissionsJson: '["read","write"]',
      conditionsJson: '{"ip_allowlist":["10.0.0.0/8"]}',
      requireApproval: true,
      updatedAt: '2026-05-01T00:00:00.000Z',
    };
    expect(store.policies.update(changed)).toBe(true);
    expect(store.policies.get(policy.id)).toEqual(changed);
    expect(() => store.policies.update({ ...changed, permissionsJson: 'read' })).toThrow(
      /CHECK constraint failed/,
    );
    expect(store.policies.delete(policy.id)).toBe(true);
    expect(store.policies.delete(policy.id)).toBe(false);
    store.policies.insert(policy);
    expect(store.policies.deleteAllForPrincipal('agent', agentId)).toBe(2);
    expect(store.policies.listForPrincipalAllVaults('agent', agentId)).toEqual([]);
  });
});
