import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

let t: TestEngine;

beforeAll(async () => {
  t = await createTestEngine();
});

afterAll(async () => {
  await t?.cleanup();
});

/** The first byte of each stored wrapped data key, by version: 1 = vault key (session), 2 = token (strict). */
function dekKinds(vaultId: string, path: string): number[] {
  const db = new Database(t.databaseFile, { readonly: true });
  try {
    const rows = db
      .prepare<[string, string], { wrapped_dek: Buffer }>(
        `SELECT v.wrapped_dek FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
         WHERE s.vault_id = ? AND s.path = ? ORDER BY v.version`,
      )
      .all(vaultId, path);
    return rows.map((row) => row.wrapped_dek[0] ?? -1);
  } finally {
    db.close();
  }
}

describe('vaults', () => {
  it('creates, lists, gets and deletes a vault', async () => {
    const created = await t.engine.vaults.create(
      t.owner,
      { name: '  personal  ', description: 'mine' },
      t.call(),
    );
    expect(created).toMatchObject({
      name: 'personal',
      description: 'mine',
      created_by: t.owner.id,
      created_by_type: 'user',
      strict_mode: false,
      secret_count: 0,
    });
    expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(t.engine.vaults.list(t.owner).map((v) => v.id)).toContain(created.id);
    expect(t.engine.vaults.get(t.owner, created.id.toUpperCase())).toMatchObject({
      id: created.id,
      name: 'personal',
    });
    t.engine.vaults.delete(t.owner, created.id, t.call());
    expect(t.engine.vaults.list(t.owner).map((v) => v.id)).not.toContain(created.id);
    await expectTalonError(() => t.engine.vaults.get(t.owner, created.id), 'not_found');
    await expectTalonError(() => t.engine.vaults.delete(t.owner, created.id, t.call()), 'not_found');
  });

  it('refuses a second vault of the same name for one owner', async () => {
    await t.engine.vaults.create(t.owner, { name: 'twice' }, t.call());
    const error = await expectTalonError(
      t.engine.vaults.create(t.owner, { name: 'twice' }, t.call()),
      'conflict',
    );
    expect(error.status).toBe(409);
    expect(t.engine.vaults.list(t.owner).filter((v) => v.name === 'twice')).toHaveLength(1);
  });

  it('refuses concurrent creations of one name: exactly one wins', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () => t.engine.vaults.create(t.owner, { name: 'race' }, t.call())),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect((outcome.reason as { code?: string }).code).toBe('conflict');
    }
  });

  it('refuses an invalid name', async () => {
    await expectTalonError(t.engine.vaults.create(t.owner, { name: '   ' }, t.call()), 'invalid_input');
    await expectTalonError(t.engine.vaults.create(t.owner, {}, t.call()), 'invalid_input');
  });

  it('refuses to delete a vault that holds secrets unless forced', async () => {
    const vault = await t.engine.vaults.create(t.owner, { name: 'full' }, t.call());
    await t.engine.secrets.put(t.owner, vault.id, 'a', { value: 'one' }, t.call());
    await t.engine.secrets.put(t.owner, vault.id, 'b', { value: 'two' }, t.call());
    const error = await expectTalonError(
      () => t.engine.vaults.delete(t.owner, vault.id, t.call()),
      'conflict',
    );
    expect(error.details).toMatchObject({ secret_count: 2 });
    expect(t.engine.vaults.get(t.owner, vault.id).secret_count).toBe(2);
    expect((await t.engine.secrets.get(t.owner, vault.id, 'a', t.call())).value).toBe('one');

    t.engine.vaults.delete(t.owner, vault.id, t.call(), { force: true });
    await expectTalonError(() => t.engine.vaults.get(t.owner, vault.id), 'not_found');
    expect(t.store.secrets.getSecretByPath(vault.id, 'a')).toBeUndefined();
    const db = new Database(t.databaseFile, { readonly: true });
    try {
      const orphans = db
        .prepare(`SELECT count(*) AS n FROM secret_versions WHERE secret_id NOT IN (SELECT id FROM secrets)`)
        .get() as { n: number };
      expect(orphans.n).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe('strict mode', () => {
  it('stores and reads values with every data key wrapped in the token', async () => {
    const vault = await t.engine.vaults.create(t.owner, { name: 'strict', strict_mode: true }, t.call());
    expect(vault.strict_mode).toBe(true);
    await t.engine.secrets.put(
      t.owner,
      vault.id,
      'db/password',
      { type: 'password', value: 'strict-one' },
      t.call(),
    );
    await t.engine.secrets.put(t.owner, vault.id, 'db/password', { value: 'strict-two' }, t.call());
    expect((await t.engine.secrets.get(t.owner, vault.id, 'db/password', t.call())).value).toBe('strict-two');
    expect((await t.engine.secrets.get(t.owner, vault.id, 'db/password', t.call(), 1)).value).toBe(
      'strict-one',
    );
    expect(dekKinds(vault.id, 'db/password')).toEqual([2, 2]);
  });

  it('switching mode keeps old versions readable and wraps new ones the new way', async () => {
    const vault = await t.engine.vaults.create(t.owner, { name: 'switching' }, t.call());
    await t.engine.secrets.put(t.owner, vault.id, 'k', { value: 'session-1' }, t.call());
    expect(t.engine.vaults.setStrictMode(t.owner, vault.id, true, t.call()).strict_mode).toBe(true);
    expect(t.engine.vaults.get(t.owner, vault.id).strict_mode).toBe(true);
    await t.engine.secrets.put(t.owner, vault.id, 'k', { value: 'strict-2' }, t.call());
    t.engine.vaults.setStrictMode(t.owner, vault.id, false, t.call());
    await t.engine.secrets.put(t.owner, vault.id, 'k', { value: 'session-3' }, t.call());
    expect(dekKinds(vault.id, 'k')).toEqual([1, 2, 1]);

    // Also after a lock, when no vault key is held in memory any more.
    await t.engine.lock(t.call());
    await t.engine.unlock(t.pin, t.call());
    const values = await Promise.all(
      [1, 2, 3].map((version) => t.engine.secrets.get(t.owner, vault.id, 'k', t.call(), version)),
    );
    expect(values.map((v) => v.value)).toEqual(['session-1', 'strict-2', 'session-3']);
  });

  it('only the vault owner may change the mode', async () => {
    const vault = await t.engine.vaults.create(t.owner, { name: 'owned' }, t.call());
    const { agent, api_key } = t.engine.agents.create(t.owner, { name: 'mode-changer' }, t.call());
    t.engine.policies.create(
      t.owner,
      vault.id,
      {
        principal_type: 'agent',
        principal_id: agent.id,
        secret_path_pattern: '**',
        permissions: ['read', 'write', 'delete'],
      },
      t.call(),
    );
    const principal = await t.engine.auth.authenticate(api_key, t.call());
    await expectTalonError(
      () => t.engine.vaults.setStrictMode(principal, vault.id, true, t.call()),
      'forbidden',
    );
    await expectTalonError(
      () => t.engine.vaults.delete(principal, vault.id, t.call(), { force: true }),
      'forbidden',
    );
    expect(t.engine.vaults.get(t.owner, vault.id).strict_mode).toBe(false);
  });
});
