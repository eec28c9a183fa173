import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretTypes } from '../../main/engine/schemas.js';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

let t: TestEngine;
let vaultId: string;

beforeAll(async () => {
  t = await createTestEngine();
  vaultId = (await t.engine.vaults.create(t.owner, { name: 'secrets' }, t.call())).id;
});

afterAll(async () => {
  await t?.cleanup();
});

const put = (path: string, body: Record<string, unknown>) =>
  t.engine.secrets.put(t.owner, vaultId, path, body, t.call());
const get = (path: string, version?: number) =>
  t.engine.secrets.get(t.owner, vaultId, path, t.call(), version);
const unique = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

const sampleValues: Record<(typeof secretTypes)[number], string> = {
  api_key: 'sk-live-0123456789abcdef',
  password: 'correct horse battery staple ✓',
  private_key: '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318',
  certificate: '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n',
  file: Buffer.from([0, 1, 2, 250, 251, 252]).toString('base64'),
  note: 'line one\nline two\ttabbed',
  ssh_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
  env_bundle: '# comment\nexport DATABASE_URL="postgres://u:p@h/db"\nAPI_TOKEN=abc#def\n',
};

describe('put and get', () => {
  for (const type of secretTypes) {
    it(`round-trips a ${type} value, type and metadata`, async () => {
      const path = `types/${type}`;
      const value = sampleValues[type];
      const written = await put(path, { type, value, metadata: { owner: 'ops' } });
      expect(written).toMatchObject({ path, type, version: 1, metadata: { owner: 'ops' }, access_count: 0 });
      const read = await get(path);
      expect(read).toMatchObject({
        path,
        type,
        value,
        version: 1,
        metadata: { owner: 'ops' },
        created_by: `user:${t.owner.id}`,
      });
    });
  }

  it('accepts the 1Claw aliases generic and env as note and env_bundle', async () => {
    expect((await put('aliases/generic', { type: 'generic', value: 'x' })).type).toBe('note');
    expect((await put('aliases/env', { secret_type: 'env', value: 'A=1' })).type).toBe('env_bundle');
  });

  it('describe and list return metadata but never the value', async () => {
    const value = `describe-me-${randomBytes(12).toString('hex')}`;
    await put('meta/only', { type: 'api_key', value });
    const described = t.engine.secrets.describe(t.owner, vaultId, 'meta/only', t.call());
    expect(described).toMatchObject({ path: 'meta/only', type: 'api_key', version: 1 });
    expect(described).not.toHaveProperty('value');
    expect(JSON.stringify(described)).not.toContain(value);
    const page = t.engine.secrets.list(t.owner, vaultId, t.call(), { prefix: 'meta/' });
    expect(page.secrets.map((s) => s.path)).toEqual(['meta/only']);
    expect(JSON.stringify(page)).not.toContain(value);
  });
});

describe('versions', () => {
  it('numbers versions 1, 2, 3 and continues after a soft delete and a new put', async () => {
    const path = unique('versions/counted');
    expect((await put(path, { value: 'one' })).version).toBe(1);
    expect((await put(path, { value: 'two' })).version).toBe(2);
    expect((await put(path, { value: 'three' })).version).toBe(3);
    await t.engine.secrets.delete(t.owner, vaultId, path, t.call());
    await expectTalonError(get(path), 'gone');
    const again = await put(path, { value: 'four' });
    expect(again.version).toBe(4);
    expect(again.deleted_at).toBeNull();
    const versions = t.engine.secrets.versions(t.owner, vaultId, path, t.call());
    expect(versions.map((v) => [v.version, v.is_current])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect((await get(path)).value).toBe('four');
    expect((await get(path, 1)).value).toBe('one');
    expect((await get(path, 3)).value).toBe('three');
    await expectTalonError(get(path, 5), 'not_found');
  });

  it('a disabled version answers 410 while the others stay readable', async () => {
    const path = unique('versions/disabled');
    await put(path, { value: 'first' });
    await put(path, { value: 'second' });
    t.engine.secrets.disableVersion(t.owner, vaultId, path, 1, t.call());
    const error = await expectTalonError(get(path, 1), 'gone');
    expect(error.status).toBe(410);
    expect(error.message).not.toContain('first');
    expect((await get(path)).value).toBe('second');
    t.engine.secrets.disableVersion(t.owner, vaultId, path, 2, t.call());
    await expectTalonError(get(path), 'gone');
    expect(t.engine.secrets.describe(t.owner, vaultId, path, t.call()).is_disabled).toBe(true);
    expect(t.engine.secrets.versions(t.owner, vaultId, path, t.call()).map((v) => v.is_disabled)).toEqual([
      true,
      true,
    ]);
  });

  it('rollback writes a new version holding the old value', async () => {
    const path = unique('versions/rollback');
    await put(path, { type: 'password', value: 'old-value' });
    await put(path, { type: 'password', value: 'new-value' });
    const rolled = await t.engine.secrets.rollback(t.owner, vaultId, path, 1, t.call());
    expect(rolled.version).toBe(3);
    const read = await get(path);
    expect(read).toMatchObject({ version: 3, value: 'old-value', type: 'password' });
    expect((await get(path, 2)).value).toBe('new-value');
  });
});

describe('rotation', () => {
  const alphabets = {
    hex: /^[0-9a-f]+$/,
    base64: /^[A-Za-z0-9+/]+$/,
    alphanumeric: /^[A-Za-z0-9]+$/,
    ascii: /^[\x21-\x7e]+$/,
  } as const;

  for (const [charset, alphabet] of Object.entries(alphabets)) {
    it(`generates a ${charset} value of the requested length`, async () => {
      const path = `rotated/${charset}`;
      await put(path, { type: 'api_key', value: 'before-rotation' });
      const rotated = await t.engine.secrets.rotate(
        t.owner,
        vaultId,
        path,
        { length: 200, charset },
        t.call(),
      );
      expect(rotated).toMatchObject({ version: 2, type: 'api_key' });
      const { value } = await get(path);
      expect(value).toHaveLength(200);
      expect(value).toMatch(alphabet);
      expect(value).not.toBe('before-rotation');
      // 200 characters from the alphabet: all of one kind would mean the generator is broken.
      expect(new Set(value).size).toBeGreaterThan(10);
    });
  }

  it('defaults to 32 hex characters and refuses a length below 8', async () => {
    await t.engine.secrets.rotate(t.owner, vaultId, 'rotated/default', {}, t.call());
    expect((await get('rotated/default')).value).toMatch(/^[0-9a-f]{32}$/);
    await expectTalonError(
      t.engine.secrets.rotate(t.owner, vaultId, 'rotated/default', { length: 4 }, t.call()),
      'invalid_input',
    );
  });
});

describe('refused values and paths', () => {
  it('an env bundle with a bad line names the line number, not the value', async () => {
    const value = 'GOOD=1\n# fine\nthis-line-is-secret-s3cr3t-no-equals\n';
    const error = await expectTalonError(put('env/bad', { type: 'env_bundle', value }), 'invalid_input');
    expect(error.message).toContain('line 3');
    expect(error.details).toMatchObject({ line: 3 });
    expect(error.message).not.toContain('s3cr3t');
    expect(JSON.stringify(error.details)).not.toContain('s3cr3t');
    await expectTalonError(get('env/bad'), 'not_found');
  });

  it('a value over the size limit is payload_too_large and not stored', async () => {
    const limit = 256 * 1024;
    const error = await expectTalonError(
      put('big/one', { value: 'x'.repeat(limit + 1) }),
      'payload_too_large',
    );
    expect(error.status).toBe(413);
    await expectTalonError(get('big/one'), 'not_found');
    // Exactly at the limit is fine; the limit counts UTF-8 bytes, not characters.
    expect((await put('big/at-limit', { value: 'y'.repeat(limit) })).version).toBe(1);
    await expectTalonError(put('big/multibyte', { value: 'é'.repeat(limit / 2 + 1) }), 'payload_too_large');
  });

  for (const bad of ['a//b', '../x', 'a/./b', 'a/../b', 'a\u0000b', 'line\nbreak', 'tab\there', 'a\\b', '']) {
    it(`refuses the path ${JSON.stringify(bad)} and stores nothing`, async () => {
      const before = t.store.secrets.countSecrets(vaultId, { includeDeleted: true });
      await expectTalonError(put(bad, { value: 'should-not-be-stored' }), 'invalid_input');
      expect(t.store.secrets.countSecrets(vaultId, { includeDeleted: true })).toBe(before);
      await expectTalonError(get(bad), 'invalid_input');
    });
  }

  it('an unknown path is not_found (404)', async () => {
    const error = await expectTalonError(get('no/such/secret'), 'not_found');
    expect(error.status).toBe(404);
    await expectTalonError(
      () => t.engine.secrets.describe(t.owner, vaultId, 'no/such/secret', t.call()),
      'not_found',
    );
    await expectTalonError(
      t.engine.secrets.delete(t.owner, vaultId, 'no/such/secret', t.call()),
      'not_found',
    );
  });

  it('an unknown vault is not_found', async () => {
    await expectTalonError(
      t.engine.secrets.get(t.owner, '0190f7a0-0000-7000-8000-000000000000', 'x', t.call()),
      'not_found',
    );
  });
});

describe('lifetime', () => {
  it('a deleted secret is gone; the owner restores it, then purges it for good', async () => {
    const path = unique('life/deleted');
    await put(path, { value: 'keep me' });
    await t.engine.secrets.delete(t.owner, vaultId, path, t.call());
    const error = await expectTalonError(get(path), 'gone');
    expect(error.status).toBe(410);
    await expectTalonError(t.engine.secrets.delete(t.owner, vaultId, path, t.call()), 'not_found');
    expect(t.engine.secrets.list(t.owner, vaultId, t.call(), { prefix: path }).secrets).toEqual([]);
    expect(
      t.engine.secrets.list(t.owner, vaultId, t.call(), { prefix: path, includeDeleted: true }).secrets,
    ).toHaveLength(1);

    const restored = t.engine.secrets.restore(t.owner, vaultId, path, t.call());
    expect(restored.deleted_at).toBeNull();
    expect((await get(path)).value).toBe('keep me');

    t.engine.secrets.purge(t.owner, vaultId, path, t.call());
    await expectTalonError(get(path), 'not_found');
    expect(t.store.secrets.getSecretByPath(vaultId, path)).toBeUndefined();
    await expectTalonError(() => t.engine.secrets.restore(t.owner, vaultId, path, t.call()), 'not_found');
  });

  it('an expired secret is gone once the clock passes expires_at', async () => {
    const path = unique('life/expiring');
    const expiresAt = new Date(t.clock.now.getTime() + 60_000).toISOString();
    await put(path, { value: 'short-lived', expires_at: expiresAt });
    expect((await get(path)).value).toBe('short-lived');
    t.clock.advance(59_000);
    expect((await get(path)).value).toBe('short-lived');
    t.clock.advance(1_000);
    const error = await expectTalonError(get(path), 'gone');
    expect(error.message).toContain('expired');
    expect(error.message).not.toContain('short-lived');
  });

  it('max_access_count 2 allows two reads, then answers gone', async () => {
    const path = unique('life/counted');
    await put(path, { value: 'twice', max_access_count: 2 });
    expect((await get(path)).value).toBe('twice');
    expect((await get(path)).value).toBe('twice');
    await expectTalonError(get(path), 'gone');
    expect(t.engine.secrets.describe(t.owner, vaultId, path, t.call()).access_count).toBe(2);
  });

  it('a new value starts a new read budget under the same max_access_count', async () => {
    const path = unique('life/recounted');
    await put(path, { value: 'first', max_access_count: 1 });
    expect((await get(path)).value).toBe('first');
    await expectTalonError(get(path), 'gone');
    await put(path, { value: 'second' });
    expect(t.engine.secrets.describe(t.owner, vaultId, path, t.call())).toMatchObject({
      access_count: 0,
      max_access_count: 1,
      version: 2,
    });
    expect((await get(path)).value).toBe('second');
    await expectTalonError(get(path), 'gone');
  });

  it('max_access_count holds under concurrent reads: exactly that many succeed', async () => {
    const path = unique('life/raced');
    await put(path, { value: 'limited', max_access_count: 3 });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => get(path)));
    const codes = outcomes.map((o) =>
      o.status === 'fulfilled' ? o.value.value : (o.reason as { code?: string }).code,
    );
    expect(codes.filter((c) => c === 'limited')).toHaveLength(3);
    expect(codes.filter((c) => c === 'gone')).toHaveLength(7);
    expect(t.store.secrets.getSecretByPath(vaultId, path)?.accessCount).toBe(3);
  });
});

describe('listing', () => {
  let listVault: string;

  beforeAll(async () => {
    listVault = (await t.engine.vaults.create(t.owner, { name: 'listing' }, t.call())).id;
    for (let i = 0; i < 250; i += 1) {
      const group = i % 2 === 0 ? 'even' : 'odd';
      await t.engine.secrets.put(
        t.owner,
        listVault,
        `${group}/item-${String(i).padStart(3, '0')}`,
        { value: `v${i}` },
        t.call(),
      );
    }
  });

  it('pages through 250 secrets with the cursor, each exactly once, in path order', () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = t.engine.secrets.list(t.owner, listVault, t.call(), {
        limit: 60,
        ...(after ? { after } : {}),
      });
      pages += 1;
      expect(page.secrets.length).toBeLessThanOrEqual(60);
      seen.push(...page.secrets.map((s) => s.path));
      if (!page.next_cursor) break;
      after = page.next_cursor;
      expect(pages).toBeLessThan(10);
    }
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect(seen).toEqual([...seen].sort());
    expect(pages).toBe(5);
  });

  it('uses 100 as the default page size', () => {
    const first = t.engine.secrets.list(t.owner, listVault, t.call());
    expect(first.secrets).toHaveLength(100);
    expect(first.next_cursor).toBe(first.secrets.at(-1)?.path);
  });

  it('an agent pages through only what it may read, each once', async () => {
    const { agent, api_key } = t.engine.agents.create(t.owner, { name: 'lister' }, t.call());
    t.engine.policies.create(
      t.owner,
      listVault,
      {
        principal_type: 'agent',
        principal_id: agent.id,
        secret_path_pattern: 'odd/**',
        permissions: ['read'],
      },
      t.call(),
    );
    const principal = await t.engine.auth.authenticate(api_key, t.call());
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 20; pages += 1) {
      const page = t.engine.secrets.list(principal, listVault, t.call(), {
        limit: 30,
        ...(after ? { after } : {}),
      });
      seen.push(...page.secrets.map((s) => s.path));
      if (!page.next_cursor) break;
      after = page.next_cursor;
    }
    expect(seen).toHaveLength(125);
    expect(new Set(seen).size).toBe(125);
    expect(seen.every((path) => path.startsWith('odd/'))).toBe(true);
    await expectTalonError(
      () => t.engine.secrets.list(principal, listVault, t.call(), { includeDeleted: true }),
      'forbidden',
    );
  });

  it('filters by prefix', () => {
    const odd = t.engine.secrets.list(t.owner, listVault, t.call(), { prefix: 'odd/', limit: 1000 });
    expect(odd.secrets).toHaveLength(125);
    expect(odd.secrets.every((s) => s.path.startsWith('odd/'))).toBe(true);
    expect(odd.next_cursor).toBeNull();
    const few = t.engine.secrets.list(t.owner, listVault, t.call(), { prefix: 'even/item-00', limit: 1000 });
    expect(few.secrets.map((s) => s.path)).toEqual([
      'even/item-000',
      'even/item-002',
      'even/item-004',
      'even/item-006',
      'even/item-008',
    ]);
  });
});

describe('versions under concurrent writers', () => {
  it('50 concurrent puts on one path get versions 1..50, each holding its own value', async () => {
    const path = 'concurrent/one';
    const values = Array.from({ length: 50 }, (_, i) => `value-${i}-${randomBytes(8).toString('hex')}`);
    const results = await Promise.all(values.map((value) => put(path, { type: 'password', value })));
    const versions = results.map((r) => r.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const byVersion = new Map<number, string>();
    for (let version = 1; version <= 50; version += 1)
      byVersion.set(version, (await get(path, version)).value);
    expect(new Set(byVersion.values())).toEqual(new Set(values));
    expect(t.engine.secrets.versions(t.owner, vaultId, path, t.call())).toHaveLength(50);
    expect(t.engine.secrets.describe(t.owner, vaultId, path, t.call()).version).toBe(50);
  });

  it('also in a strict-mode vault, where every data key is wrapped in the token', async () => {
    const strict = await t.engine.vaults.create(
      t.owner,
      { name: 'strict-concurrent', strict_mode: true },
      t.call(),
    );
    const values = Array.from({ length: 20 }, (_, i) => `strict-${i}-${randomBytes(8).toString('hex')}`);
    const results = await Promise.all(
      values.map((value) => t.engine.secrets.put(t.owner, strict.id, 'p', { value }, t.call())),
    );
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const read = await Promise.all(
      results.map((r) => t.engine.secrets.get(t.owner, strict.id, 'p', t.call(), r.version)),
    );
    expect(new Set(read.map((r) => r.value))).toEqual(new Set(values));
  });
});
