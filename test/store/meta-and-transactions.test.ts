import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../main/store/sqlite-store.js';
import { sampleVault } from './sample-rows.js';
import { openTemporaryStore } from './temporary-store.js';

describe('meta and transactions', () => {
  let store: SqliteStore;
  let dispose: () => void;
  beforeEach(() => ({ store, dispose } = openTemporaryStore()));
  afterEach(() => dispose());

  it('set, replace and delete a setting', () => {
    expect(store.meta.get('auto_lock_minutes')).toBeUndefined();
    store.meta.set('auto_lock_minutes', '15');
    store.meta.set('auto_lock_minutes', '30');
    expect(store.meta.get('auto_lock_minutes')).toBe('30');
    expect(store.meta.delete('auto_lock_minutes')).toBe(true);
    expect(store.meta.delete('auto_lock_minutes')).toBe(false);
    expect(store.meta.get('auto_lock_minutes')).toBeUndefined();
  });

  it('commit what a transaction wrote and return its result', () => {
    const vault = sampleVault();
    expect(
      store.transaction(() => {
        store.vaults.insert(vault);
        store.meta.set('default_vault', vault.id);
        return 'done';
      }),
    ).toBe('done');
    expect(store.vaults.get(vault.id)).toEqual(vault);
  });

  it('undo all of a transaction that throws', () => {
    const vault = sampleVault();
    expect(() =>
      store.transaction(() => {
        store.vaults.insert(vault);
        store.meta.set('default_vault', vault.id);
        throw new Error('changed my mind');
      }),
    ).toThrow('changed my mind');
    expect(store.vaults.get(vault.id)).toBeUndefined();
    expect(store.meta.get('default_vault')).toBeUndefined();
  });

  it('undo only the inner part of a nested transaction that throws', () => {
    const [kept, undone] = [sampleVault(), sampleVault()];
    store.transaction(() => {
      store.vaults.insert(kept);
      expect(() =>
        store.transaction(() => {
          store.vaults.insert(undone);
          throw new Error('inner failure');
        }),
      ).toThrow('inner failure');
    });
    expect(store.vaults.get(kept.id)).toBeDefined();
    expect(store.vaults.get(undone.id)).toBeUndefined();
  });

  it('refuse an asynchronous transaction', () => {
    expect(() => store.transaction(async () => 1)).toThrow(/cannot return a promise/);
  });
});
