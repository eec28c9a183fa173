import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../main/store/sqlite-store.js';
import { sampleAgent, sampleApiKey, sampleUser } from './sample-rows.js';
import { openTemporaryStore } from './temporary-store.js';

const later = '2026-04-01T00:00:00.000Z';

describe('users, agents and API keys', () => {
  let store: SqliteStore;
  let dispose: () => void;
  beforeEach(() => ({ store, dispose } = openTemporaryStore()));
  afterEach(() => dispose());

  it('keep users, one per email whatever its ASCII case', () => {
    const owner = sampleUser({ email: 'Ann@Example.org', role: 'owner', totpJson: '{"secret":"sealed"}' });
    store.users.insert(owner);
    expect(store.users.get(owner.id)).toEqual(owner);
    expect(store.users.findByEmail('ann@example.org')).toEqual(owner);
    expect(() => store.users.insert(sampleUser({ email: 'ANN@example.org' }))).toThrow(
      /UNIQUE constraint failed/,
    );
    expect(() => store.users.insert(sampleUser({ role: 'admin' as 'owner' }))).toThrow(
      /CHECK constraint failed/,
    );

    const member = sampleUser();
    store.users.insert(member);
    expect(store.users.count()).toBe(2);
    expect(store.users.list().map((user) => user.id)).toEqual([owner.id, member.id].sort());
    expect(store.users.update({ ...member, displayName: 'Bob', isActive: false })).toBe(true);
    expect(store.users.get(member.id)).toEqual({ ...member, displayName: 'Bob', isActive: false });
    expect(store.users.delete(member.id)).toBe(true);
    expect(store.users.get(member.id)).toBeUndefined();
  });

  it('keep agents and record their last activity', () => {
    const agent = sampleAgent({
      scopesJson: '["vault:read"]',
      cryptoProxyEnabled: true,
      tokenTtlSeconds: 600,
    });
    store.agents.insert(agent);
    expect(store.agents.get(agent.id)).toEqual(agent);
    expect(store.agents.touchLastActive(agent.id, later)).toBe(true);
    const changed = {
      ...agent,
      name: 'renamed',
      isActive: false,
      cryptoProxyEnabled: false,
      updatedAt: later,
    };
    expect(store.agents.update(changed)).toBe(true);
    expect(store.agents.get(agent.id)).toEqual({ ...changed, lastActiveAt: later });
    expect(store.agents.list()).toHaveLength(1);
    expect(store.agents.delete(agent.id)).toBe(true);
    expect(store.agents.list()).toEqual([]);
    expect(store.agents.update(changed)).toBe(false);
  });

  it('find API keys by hash, list, revoke and delete them by principal', () => {
    const agentId = '01900000-0000-7000-8000-0000000000a1';
    const [first, second] = [sampleApiKey({ principalId: agentId }), sampleApiKey({ principalId: agentId })];
    const someoneElse = sampleApiKey();
    for (const key of [first, second, someoneElse]) store.apiKeys.insert(key);
    if (!first || !second) throw new Error('two keys expected');

    expect(store.apiKeys.findByHash(Buffer.from(first.keyHash))).toEqual(first);
    expect(store.apiKeys.findByHash(Buffer.alloc(32))).toBeUndefined();
    expect(() => store.apiKeys.insert(sampleApiKey({ keyHash: first.keyHash }))).toThrow(
      /UNIQUE constraint failed/,
    );
    expect(store.apiKeys.listByPrincipal('agent', agentId).map((key) => key.id)).toEqual(
      [first.id, second.id].sort(),
    );

    expect(store.apiKeys.touchLastUsed(first.id, later)).toBe(true);
    expect(store.apiKeys.revoke(first.id, later)).toBe(true);
    expect(store.apiKeys.revoke(first.id, later)).toBe(false);
    expect(store.apiKeys.get(first.id)).toEqual({ ...first, lastUsedAt: later, revokedAt: later });
    expect(store.apiKeys.revokeAllForPrincipal('agent', agentId, later)).toBe(1);
    expect(store.apiKeys.get(second.id)?.revokedAt).toBe(later);

    expect(store.apiKeys.deleteAllForPrincipal('agent', agentId)).toBe(2);
    expect(store.apiKeys.listByPrincipal('agent', agentId)).toEqual([]);
    expect(store.apiKeys.delete(someoneElse.id)).toBe(true);
  });
});
