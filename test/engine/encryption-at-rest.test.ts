import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otherConnectionsSeenWithinMs } from '../../main/store/row-cache.js';
import {
  type TestEngine,
  createTestEngine,
  expectTalonError,
  withRawDatabase,
} from '../fixtures/test-engine.js';

let t: TestEngine;
let sessionVault: string;
let strictVault: string;
let otherVault: string;

beforeAll(async () => {
  t = await createTestEngine();
  sessionVault = (await t.engine.vaults.create(t.owner, { name: 'session' }, t.call())).id;
  strictVault = (await t.engine.vaults.create(t.owner, { name: 'strict', strict_mode: true }, t.call())).id;
  otherVault = (await t.engine.vaults.create(t.owner, { name: 'other-session' }, t.call())).id;
});

afterAll(async () => {
  await t?.cleanup();
});

function secretId(vaultId: string, path: string): string {
  const secret = t.store.secrets.getSecretByPath(vaultId, path);
  if (!secret) throw new Error(`no secret ${path}`);
  return secret.id;
}

/** Copies the ciphertext and wrapped DEK of one version row onto another. */
function transplant(
  from: { vault: string; path: string; version: number },
  to: { vault: string; path: string; version: number },
): void {
  withRawDatabase(t.databaseFile, (db) => {
    const source = db
      .prepare<[string, number], { ciphertext: Buffer; wrapped_dek: Buffer }>(
        `SELECT ciphertext, wrapped_dek FROM secret_versions WHERE secret_id = ? AND version = ?`,
      )
      .get(secretId(from.vault, from.path), from.version);
    if (!source) throw new Error('no source version');
    const changed = db
      .prepare(
        `UPDATE secret_versions SET ciphertext = ?, wrapped_dek = ? WHERE secret_id = ? AND version = ?`,
      )
      .run(source.ciphertext, source.wrapped_dek, secretId(to.vault, to.path), to.version).changes;
    expect(changed).toBe(1);
  });
}

async function expectIntegrityFailure(
  vaultId: string,
  path: string,
  notThis: string[],
  version?: number,
): Promise<void> {
  // The tampering came from another connection, which the store's row cache notices within this time.
  await new Promise((resolve) => setTimeout(resolve, otherConnectionsSeenWithinMs + 1));
  const error = await expectTalonError(
    t.engine.secrets.get(t.owner, vaultId, path, t.call(), version),
    'internal',
  );
  expect(error.message).toMatch(/integrity check/);
  for (const value of notThis) expect(error.message).not.toContain(value);
}

describe('AAD binding', () => {
  it('a ciphertext moved to another path in the same vault fails its integrity check', async () => {
    await t.engine.secrets.put(
      t.owner,
      sessionVault,
      'move/a',
      { type: 'api_key', value: 'value-of-a' },
      t.call(),
    );
    await t.engine.secrets.put(
      t.owner,
      sessionVault,
      'move/b',
      { type: 'api_key', value: 'value-of-b' },
      t.call(),
    );
    transplant(
      { vault: sessionVault, path: 'move/a', version: 1 },
      { vault: sessionVault, path: 'move/b', version: 1 },
    );
    await expectIntegrityFailure(sessionVault, 'move/b', ['value-of-a', 'value-of-b']);
    expect((await t.engine.secrets.get(t.owner, sessionVault, 'move/a', t.call())).value).toBe('value-of-a');
  });

  it('a ciphertext moved to another version of the same secret fails', async () => {
    await t.engine.secrets.put(t.owner, sessionVault, 'ver/x', { value: 'version-one' }, t.call());
    await t.engine.secrets.put(t.owner, sessionVault, 'ver/x', { value: 'version-two' }, t.call());
    transplant(
      { vault: sessionVault, path: 'ver/x', version: 1 },
      { vault: sessionVault, path: 'ver/x', version: 2 },
    );
    await expectIntegrityFailure(sessionVault, 'ver/x', ['version-one'], 2);
    await expectIntegrityFailure(sessionVault, 'ver/x', ['version-one']);
    expect((await t.engine.secrets.get(t.owner, sessionVault, 'ver/x', t.call(), 1)).value).toBe(
      'version-one',
    );
  });

  it('a ciphertext moved to another vault fails', async () => {
    await t.engine.secrets.put(t.owner, sessionVault, 'cross/k', { value: 'from-session-vault' }, t.call());
    await t.engine.secrets.put(t.owner, otherVault, 'cross/k', { value: 'in-other-vault' }, t.call());
    transplant(
      { vault: sessionVault, path: 'cross/k', version: 1 },
      { vault: otherVault, path: 'cross/k', version: 1 },
    );
    await expectIntegrityFailure(otherVault, 'cross/k', ['from-session-vault']);
  });

  it('in a strict vault too, where the token unwraps the data key', async () => {
    await t.engine.secrets.put(t.owner, strictVault, 'move/a', { value: 'strict-a' }, t.call());
    await t.engine.secrets.put(t.owner, strictVault, 'move/b', { value: 'strict-b' }, t.call());
    transplant(
      { vault: strictVault, path: 'move/a', version: 1 },
      { vault: strictVault, path: 'move/b', version: 1 },
    );
    await expectIntegrityFailure(strictVault, 'move/b', ['strict-a', 'strict-b']);
    expect((await t.engine.secrets.get(t.owner, strictVault, 'move/a', t.call())).value).toBe('strict-a');
  });

  it('renaming a path or changing a type in the database breaks the binding', async () => {
    await t.engine.secrets.put(
      t.owner,
      sessionVault,
      'rename/me',
      { type: 'private_key', value: 'bound-to-its-path' },
      t.call(),
    );
    await t.engine.secrets.put(
      t.owner,
      sessionVault,
      'retype/me',
      { type: 'private_key', value: 'bound-to-its-type' },
      t.call(),
    );
    withRawDatabase(t.databaseFile, (db) => {
      db.prepare(`UPDATE secrets SET path = 'renamed/me' WHERE id = ?`).run(
        secretId(sessionVault, 'rename/me'),
      );
      const id = secretId(sessionVault, 'retype/me');
      db.prepare(`UPDATE secrets SET type = 'note' WHERE id = ?`).run(id);
      db.prepare(`UPDATE secret_versions SET type = 'note' WHERE secret_id = ?`).run(id);
    });
    await expectIntegrityFailure(sessionVault, 'renamed/me', ['bound-to-its-path']);
    await expectIntegrityFailure(sessionVault, 'retype/me', ['bound-to-its-type']);
  });

  it('a flipped bit in a ciphertext or a wrapped data key fails', async () => {
    for (const [vault, column] of [
      [sessionVault, 'ciphertext'],
      [sessionVault, 'wrapped_dek'],
      [strictVault, 'ciphertext'],
      [strictVault, 'wrapped_dek'],
    ] as const) {
      const path = `flip/${column}`;
      await t.engine.secrets.put(t.owner, vault, path, { value: 'flip-me' }, t.call());
      withRawDatabase(t.databaseFile, (db) => {
        const id = secretId(vault, path);
        const row = db
          .prepare<[string], Record<string, Buffer>>(
            `SELECT ${column} AS bytes FROM secret_versions WHERE secret_id = ?`,
          )
          .get(id)!;
        const bytes = Buffer.from(row.bytes!);
        const at = bytes.length - 5;
        bytes[at] = bytes[at]! ^ 0x01;
        db.prepare(`UPDATE secret_versions SET ${column} = ? WHERE secret_id = ?`).run(bytes, id);
      });
      await expectIntegrityFailure(vault, path, ['flip-me']);
    }
  });
});

describe('canary', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const canary = () => Array.from({ length: 40 }, () => alphabet[randomInt(alphabet.length)]).join('');

  function encodings(value: string): Buffer[] {
    const raw = Buffer.from(value, 'utf8');
    return [
      raw,
      Buffer.from(raw.toString('base64')),
      Buffer.from(raw.toString('base64url')),
      Buffer.from(raw.toString('hex')),
      Buffer.from(value, 'utf16le'),
    ];
  }

  function scanFiles(values: string[]): string[] {
    const found: string[] = [];
    for (const file of [t.databaseFile, `${t.databaseFile}-wal`, `${t.databaseFile}-journal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      for (const value of values) {
        encodings(value).forEach((encoded, index) => {
          if (bytes.includes(encoded)) found.push(`${file} holds encoding ${index} of a canary`);
        });
      }
    }
    return found;
  }

  it('no value, in any common encoding, is in the database file, its WAL or the audit log', async () => {
    const values: string[] = [];
    for (const vault of [sessionVault, strictVault]) {
      for (const type of ['password', 'private_key', 'env_bundle'] as const) {
        const value = canary();
        values.push(value);
        const path = `canary/${type}`;
        await t.engine.secrets.put(
          t.owner,
          vault,
          path,
          { type, value: type === 'env_bundle' ? `TOKEN=${value}` : value },
          t.call(),
        );
        expect((await t.engine.secrets.get(t.owner, vault, path, t.call())).value).toContain(value);
      }
      const second = canary();
      values.push(second);
      await t.engine.secrets.put(t.owner, vault, 'canary/password', { value: second }, t.call());
      await t.engine.secrets.rollback(t.owner, vault, 'canary/password', 1, t.call());
      await t.engine.secrets.rotate(
        t.owner,
        vault,
        'canary/rotated',
        { length: 40, charset: 'alphanumeric' },
        t.call(),
      );
      const rotated = (await t.engine.secrets.get(t.owner, vault, 'canary/rotated', t.call())).value;
      expect(rotated).toHaveLength(40);
      values.push(rotated);
    }
    expect(values).toHaveLength(10);

    // While Talon runs (the WAL holds the latest pages) ...
    expect(existsSync(`${t.databaseFile}-wal`)).toBe(true);
    expect(scanFiles(values)).toEqual([]);

    // ... and after everything is closed.
    await t.engine.lock(t.call());
    t.store.close();
    expect(scanFiles(values)).toEqual([]);

    const db = new Database(t.databaseFile, { readonly: true });
    try {
      const rows = db.prepare(`SELECT * FROM audit_events`).all() as Record<string, unknown>[];
      expect(rows.length).toBeGreaterThan(20);
      const text = rows
        .map((row) => JSON.stringify(row, (_key, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)))
        .join('\n');
      expect(text).toContain('secret.read');
      for (const value of values) {
        for (const encoded of encodings(value)) expect(text.includes(encoded.toString('utf8'))).toBe(false);
      }
      // Sanity for the scan itself: the paths (stored in clear, by design) are found.
      expect(readFileSync(t.databaseFile).includes(Buffer.from('canary/rotated'))).toBe(true);
    } finally {
      db.close();
    }
  });
});
