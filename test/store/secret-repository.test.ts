import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../main/store/sqlite-store.js';
import type { SecretRow, VaultRow } from '../../main/store/store.js';
import { sampleSecret, sampleVault, sampleVersion } from './sample-rows.js';
import { openTemporaryStore } from './temporary-store.js';

const later = '2026-03-01T00:00:00.000Z';

/** SQLite's order for text: UTF-8 bytes, which is code point order (not JavaScript's UTF-16 order). */
function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

describe('secret repository', () => {
  let store: SqliteStore;
  let dispose: () => void;
  let vault: VaultRow;
  beforeEach(() => {
    ({ store, dispose } = openTemporaryStore());
    vault = sampleVault();
    store.vaults.insert(vault);
  });
  afterEach(() => dispose());

  function addSecrets(paths: readonly string[], vaultId = vault.id): void {
    store.transaction(() => {
      for (const path of paths) store.secrets.insertSecret(sampleSecret(vaultId, { path }));
    });
  }

  /** Every path of the listing, read page by page. */
  function listAllPaths(options: { prefix?: string; includeDeleted?: boolean }, limit: number): string[] {
    const paths: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = store.secrets.listSecrets(vault.id, { ...options, after, limit });
      paths.push(...page.map((secret) => secret.path));
      if (page.length < limit) return paths;
      after = page.at(-1)?.path;
    }
  }

  it('keep a secret, found by id and by path, starting with no accesses', () => {
    const secret = sampleSecret(vault.id, { path: 'db/password', metadataJson: '{"env":"prod"}' });
    store.secrets.insertSecret(secret);
    const expected: SecretRow = { ...secret, accessCount: 0, deletedAt: null };
    expect(store.secrets.getSecretById(secret.id)).toEqual(expected);
    expect(store.secrets.getSecretByPath(vault.id, 'db/password')).toEqual(expected);
    expect(store.secrets.getSecretByPath(vault.id, 'db/Password')).toBeUndefined();
  });

  it('refuse a second secret at one path in one vault, not in another vault', () => {
    store.secrets.insertSecret(sampleSecret(vault.id, { path: 'db/password' }));
    expect(() => store.secrets.insertSecret(sampleSecret(vault.id, { path: 'db/password' }))).toThrow(
      /UNIQUE constraint failed/,
    );
    const other = sampleVault();
    store.vaults.insert(other);
    expect(() => store.secrets.insertSecret(sampleSecret(other.id, { path: 'db/password' }))).not.toThrow();
  });

  it('refuse metadata that is not JSON', () => {
    expect(() => store.secrets.insertSecret(sampleSecret(vault.id, { metadataJson: '{oops' }))).toThrow(
      /CHECK constraint failed/,
    );
  });

  it('number versions one by one and keep each version', () => {
    const secret = sampleSecret(vault.id);
    store.secrets.insertSecret(secret);
    const written = [1, 2, 3].map(() =>
      store.transaction(() => {
        const version = store.secrets.nextVersion(secret.id, later) ?? 0;
        const row = sampleVersion(secret.id, version);
        store.secrets.insertVersion(row);
        return row;
      }),
    );
    expect(written.map((row) => row.version)).toEqual([1, 2, 3]);
    expect(store.secrets.getSecretById(secret.id)).toMatchObject({ currentVersion: 3, updatedAt: later });
    expect(store.secrets.getVersion(secret.id, 2)).toEqual(written[1]);
    const summaries = store.secrets.listVersions(secret.id);
    expect(summaries.map((summary) => summary.version)).toEqual([1, 2, 3]);
    expect(summaries[0]).not.toHaveProperty('ciphertext');
    expect(summaries[0]).not.toHaveProperty('wrappedDek');
    expect(store.secrets.nextVersion('no-such-secret', later)).toBeUndefined();
    expect(() => store.secrets.insertVersion(sampleVersion(secret.id, 2))).toThrow(
      /UNIQUE constraint failed/,
    );
  });

  it('disable a version once, and move the current version', () => {
    const secret = sampleSecret(vault.id, { currentVersion: 2 });
    store.secrets.insertSecret(secret);
    store.secrets.insertVersion(sampleVersion(secret.id, 1));
    store.secrets.insertVersion(sampleVersion(secret.id, 2));
    expect(store.secrets.disableVersion(secret.id, 2, later)).toBe(true);
    expect(store.secrets.disableVersion(secret.id, 2, later)).toBe(false);
    expect(store.secrets.getVersion(secret.id, 2)?.disabledAt).toBe(later);
    expect(store.secrets.setCurrentVersion(secret.id, 1, later)).toBe(true);
    expect(store.secrets.getSecretById(secret.id)?.currentVersion).toBe(1);
  });

  it('count accesses', () => {
    const secret = sampleSecret(vault.id, { maxAccessCount: 2 });
    store.secrets.insertSecret(secret);
    expect(store.secrets.incrementAccessCount(secret.id)).toBe(1);
    expect(store.secrets.incrementAccessCount(secret.id)).toBe(2);
    expect(store.secrets.incrementAccessCount('no-such-secret')).toBeUndefined();
  });

  it('change the metadata of a secret', () => {
    const secret = sampleSecret(vault.id);
    store.secrets.insertSecret(secret);
    const change = {
      id: secret.id,
      type: 'password',
      metadataJson: '{"rotated":true}',
      expiresAt: '2027-01-01T00:00:00.000Z',
      maxAccessCount: 5,
      accessCount: 2,
      currentVersion: 4,
      updatedAt: later,
    };
    expect(store.secrets.updateSecretMeta(change)).toBe(true);
    expect(store.secrets.getSecretById(secret.id)).toEqual({
      ...secret,
      ...change,
      deletedAt: null,
    });
  });

  it('soft-delete, restore and purge a secret', () => {
    const secret = sampleSecret(vault.id, { path: 'gone/soon', currentVersion: 1 });
    store.secrets.insertSecret(secret);
    store.secrets.insertVersion(sampleVersion(secret.id, 1));

    expect(store.secrets.softDelete(secret.id, later)).toBe(true);
    expect(store.secrets.softDelete(secret.id, later)).toBe(false);
    expect(store.secrets.getSecretByPath(vault.id, 'gone/soon')?.deletedAt).toBe(later);
    expect(store.secrets.listSecrets(vault.id, { limit: 10 })).toEqual([]);
    expect(store.secrets.listSecrets(vault.id, { limit: 10, includeDeleted: true })).toHaveLength(1);
    expect(store.secrets.countSecrets(vault.id)).toBe(0);
    expect(store.secrets.countSecrets(vault.id, { includeDeleted: true })).toBe(1);

    expect(store.secrets.restore(secret.id, later)).toBe(true);
    expect(store.secrets.restore(secret.id, later)).toBe(false);
    expect(store.secrets.getSecretById(secret.id)?.deletedAt).toBeNull();

    expect(store.secrets.purge(secret.id)).toBe(true);
    expect(store.secrets.getSecretById(secret.id)).toBeUndefined();
    expect(store.secrets.getVersion(secret.id, 1)).toBeUndefined();
    expect(store.secrets.purge(secret.id)).toBe(false);
  });

  it('list 5,000 secrets page by page, each exactly once, in path order', () => {
    const paths = Array.from({ length: 5000 }, (_, i) => `team-${i % 7}/service-${(i * 7919) % 5000}/key`);
    addSecrets(paths);
    const other = sampleVault();
    store.vaults.insert(other);
    addSecrets(['team-0/intruder'], other.id);

    const listed = listAllPaths({}, 128);
    expect(listed).toEqual([...paths].sort(comparePaths));
    expect(new Set(listed).size).toBe(5000);
    expect(listAllPaths({}, 5000)).toEqual(listed);
    expect(store.secrets.countSecrets(vault.id)).toBe(5000);
  });

  it('treat a prefix as a plain string prefix: "a/b" lists "a/bc" too, "a/b/" does not', () => {
    addSecrets(['a', 'a/b', 'a/b/c', 'a/b/d/e', 'a/bc', 'a/c', 'a/b%', 'a/b_', 'a0', 'b']);
    const list = (prefix: string, limit = 100) =>
      store.secrets.listSecrets(vault.id, { prefix, limit }).map((secret) => secret.path);
    expect(list('a/b')).toEqual(['a/b', 'a/b%', 'a/b/c', 'a/b/d/e', 'a/b_', 'a/bc']);
    expect(list('a/b/')).toEqual(['a/b/c', 'a/b/d/e']);
    expect(list('a/b%')).toEqual(['a/b%']);
    expect(list('a/')).toEqual(['a/b', 'a/b%', 'a/b/c', 'a/b/d/e', 'a/b_', 'a/bc', 'a/c']);
    expect(list('')).toHaveLength(10);
    expect(list('z')).toEqual([]);
    expect(store.secrets.countSecrets(vault.id, { prefix: 'a/b' })).toBe(6);

    const firstPage = store.secrets.listSecrets(vault.id, { prefix: 'a/b', limit: 2 });
    const after = firstPage.at(-1)?.path;
    expect(
      store.secrets.listSecrets(vault.id, { prefix: 'a/b', after, limit: 10 }).map((s) => s.path),
    ).toEqual(['a/b/c', 'a/b/d/e', 'a/b_', 'a/bc']);
    // A cursor before the prefix starts at the prefix; one after its range gives nothing.
    expect(list('a/b').slice(0, 1)).toEqual(
      store.secrets.listSecrets(vault.id, { prefix: 'a/b', after: 'a', limit: 1 }).map((s) => s.path),
    );
    expect(store.secrets.listSecrets(vault.id, { prefix: 'a/b', after: 'a/c', limit: 10 })).toEqual([]);
  });

  it('list by prefix and cursor exactly as a filter in code point order would, for any paths', () => {
    // Characters that sit at the edges of UTF-8 and UTF-16 orders, where a naive bound goes wrong.
    const char = fc.constantFrom(
      'a',
      'b',
      '/',
      '%',
      '_',
      '\u007f',
      '\u00ff',
      '\ud7ff',
      '\ue000',
      '\uffff',
      '\u{10000}',
      '\u{10ffff}',
    );
    const path = fc.string({ unit: char, minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(
        fc.uniqueArray(path, { maxLength: 30 }),
        fc.string({ unit: char, maxLength: 3 }),
        fc.option(path, { nil: undefined }),
        fc.integer({ min: 1, max: 7 }),
        (paths, prefix, after, limit) => {
          store.transaction(() => {
            for (const secret of store.secrets.listSecrets(vault.id, { limit: 1000, includeDeleted: true })) {
              store.secrets.purge(secret.id);
            }
          });
          addSecrets(paths);
          const expected = paths.filter((p) => p.startsWith(prefix)).sort(comparePaths);
          expect(listAllPaths({ prefix }, limit)).toEqual(expected);
          expect(store.secrets.countSecrets(vault.id, { prefix })).toBe(expected.length);
          const afterCursor = expected.filter((p) => after === undefined || comparePaths(p, after) > 0);
          expect(
            store.secrets.listSecrets(vault.id, { prefix, after, limit: 1000 }).map((secret) => secret.path),
          ).toEqual(afterCursor);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuse a negative or fractional limit', () => {
    expect(() => store.secrets.listSecrets(vault.id, { limit: -1 })).toThrow(RangeError);
    expect(() => store.secrets.listSecrets(vault.id, { limit: 1.5 })).toThrow(RangeError);
  });
});
