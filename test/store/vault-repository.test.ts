import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../main/store/sqlite-store.js';
import { samplePolicy, sampleSecret, sampleVault, sampleVersion } from './sample-rows.js';
import { openTemporaryStore } from './temporary-store.js';

describe('vault repository', () => {
  let store: SqliteStore;
  let dispose: () => void;
  beforeEach(() => ({ store, dispose } = openTemporaryStore()));
  afterEach(() => dispose());

  it('keep a vault and find it by id, name and owner', () => {
    const vault = sampleVault({ name: 'Personal', description: 'mine', strictMode: true });
    store.vaults.insert(vault);
    expect(store.vaults.get(vault.id)).toEqual(vault);
    expect(store.vaults.findByName('user', vault.ownerId, 'Personal')).toEqual(vault);
    expect(store.vaults.findByName('agent', vault.ownerId, 'Personal')).toBeUndefined();
    expect(store.vaults.listByOwner('user', vault.ownerId)).toEqual([vault]);
    expect(store.vaults.list()).toEqual([vault]);
    expect(store.vaults.get('no-such-vault')).toBeUndefined();
  });

  it('refuse a second vault of the same name for one owner, not for another', () => {
    const vault = sampleVault({ name: 'Personal' });
    store.vaults.insert(vault);
    expect(() => store.vaults.insert(sampleVault({ name: 'Personal' }))).toThrow(/UNIQUE constraint failed/);
    expect(() => store.vaults.insert(sampleVault({ name: 'Personal', ownerType: 'agent' }))).not.toThrow();
    expect(() =>
      store.vaults.insert(sampleVault({ name: 'Personal', ownerId: 'someone-else' })),
    ).not.toThrow();
  });

  it('change name, description, strict mode and wrapped key', () => {
    const vault = sampleVault();
    store.vaults.insert(vault);
    expect(store.vaults.update({ id: vault.id, name: 'Renamed', description: 'now described' })).toBe(true);
    expect(store.vaults.setStrictMode(vault.id, true)).toBe(true);
    const rewrapped = Buffer.from('new wrapping');
    expect(store.vaults.setWrappedKey(vault.id, rewrapped)).toBe(true);
    expect(store.vaults.get(vault.id)).toEqual({
      ...vault,
      name: 'Renamed',
      description: 'now described',
      strictMode: true,
      wrappedKey: rewrapped,
    });
    expect(store.vaults.setStrictMode('no-such-vault', true)).toBe(false);
  });

  it('count the secrets that are not deleted', () => {
    const vault = sampleVault();
    store.vaults.insert(vault);
    const kept = sampleSecret(vault.id);
    const deleted = sampleSecret(vault.id);
    store.secrets.insertSecret(kept);
    store.secrets.insertSecret(deleted);
    store.secrets.softDelete(deleted.id, '2026-02-01T00:00:00.000Z');
    expect(store.vaults.countSecrets(vault.id)).toBe(1);
  });

  it('delete a vault with its secrets, their versions and its policies, and nothing else', () => {
    const [doomed, other] = [sampleVault(), sampleVault()];
    store.vaults.insert(doomed);
    store.vaults.insert(other);
    const secret = sampleSecret(doomed.id, { currentVersion: 1 });
    const survivor = sampleSecret(other.id, { currentVersion: 1 });
    for (const each of [secret, survivor]) {
      store.secrets.insertSecret(each);
      store.secrets.insertVersion(sampleVersion(each.id, 1));
    }
    const policy = samplePolicy(doomed.id);
    const otherPolicy = samplePolicy(other.id);
    store.policies.insert(policy);
    store.policies.insert(otherPolicy);

    expect(store.vaults.delete(doomed.id)).toBe(true);
    expect(store.vaults.get(doomed.id)).toBeUndefined();
    expect(store.secrets.getSecretById(secret.id)).toBeUndefined();
    expect(store.secrets.listVersions(secret.id)).toEqual([]);
    expect(store.policies.get(policy.id)).toBeUndefined();

    expect(store.secrets.getSecretById(survivor.id)).toBeDefined();
    expect(store.secrets.listVersions(survivor.id)).toHaveLength(1);
    expect(store.policies.get(otherPolicy.id)).toBeDefined();
    expect(store.vaults.delete(doomed.id)).toBe(false);
  });

  it('refuse a secret in a vault that does not exist', () => {
    expect(() => store.secrets.insertSecret(sampleSecret('no-such-vault'))).toThrow(
      /FOREIGN KEY constraint failed/,
    );
  });
});
