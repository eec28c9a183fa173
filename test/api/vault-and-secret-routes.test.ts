import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiRequest, type TestApi, expectProblem, startTestApi } from '../fixtures/test-api-server.js';

let api: TestApi;
let vaultId: string;

/** As the owner, with the owner's personal API key. */
const asOwner = (method: string, path: string, request: ApiRequest = {}) =>
  api.request(method, path, { credential: api.t.ownerApiKey, ...request });

beforeAll(async () => {
  api = await startTestApi();
  const created = await asOwner('POST', '/v1/vaults', { json: { name: 'work', description: 'day job' } });
  vaultId = created.body.id;
});

afterAll(async () => {
  await api?.close();
});

describe('vaults', () => {
  it('are created (201), listed, read and deleted (204)', async () => {
    const created = await asOwner('POST', '/v1/vaults', { json: { name: 'scratch', strict_mode: true } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'scratch',
      created_by: api.t.owner.id,
      created_by_type: 'user',
      strict_mode: true,
      secret_count: 0,
    });
    const listed = await asOwner('GET', '/v1/vaults');
    expect(listed.status).toBe(200);
    expect(listed.body.vaults.map((vault: { name: string }) => vault.name)).toEqual(
      expect.arrayContaining(['work', 'scratch']),
    );
    const read = await asOwner('GET', `/v1/vaults/${created.body.id}`);
    expect(read.body).toEqual(created.body);

    const deleted = await asOwner('DELETE', `/v1/vaults/${created.body.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectProblem(await asOwner('GET', `/v1/vaults/${created.body.id}`), 404, 'not_found');
  });

  it('refuses a duplicate name (409) and an invalid body (400)', async () => {
    expectProblem(await asOwner('POST', '/v1/vaults', { json: { name: 'work' } }), 409, 'conflict');
    expectProblem(await asOwner('POST', '/v1/vaults', { json: {} }), 400, 'invalid_input');
  });

  it('are deleted with their secrets only with force=true', async () => {
    const created = await asOwner('POST', '/v1/vaults', { json: { name: 'full' } });
    await asOwner('PUT', `/v1/vaults/${created.body.id}/secrets/a`, { json: { value: 'v' } });
    const refused = await asOwner('DELETE', `/v1/vaults/${created.body.id}`);
    expect(expectProblem(refused, 409, 'conflict').detail).toMatch(/still holds 1 secret/u);
    expect(refused.body.secret_count).toBe(1);
    expectProblem(await asOwner('DELETE', `/v1/vaults/${created.body.id}?force=maybe`), 400, 'invalid_input');
    expect((await asOwner('DELETE', `/v1/vaults/${created.body.id}?force=true`)).status).toBe(204);
    expectProblem(await asOwner('GET', `/v1/vaults/${created.body.id}`), 404, 'not_found');
  });
});

describe('secrets', () => {
  const secretUrl = (path: string, kind = 'secrets') => `/v1/vaults/${vaultId}/${kind}/${path}`;

  it('are put (201), read, versioned, disabled, rotated, rolled back, described', async () => {
    const put = await asOwner('PUT', secretUrl('api/openai'), {
      json: { value: 'sk-first', type: 'api_key', metadata: { env: 'prod' } },
    });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({
      path: 'api/openai',
      type: 'api_key',
      version: 1,
      metadata: { env: 'prod' },
    });
    expect(put.body).not.toHaveProperty('value');

    // 1Claw's CLI sends secret_type; the new version keeps the metadata.
    const second = await asOwner('PUT', secretUrl('api/openai'), {
      json: { value: 'sk-second', secret_type: 'api_key' },
    });
    expect(second.body).toMatchObject({
      id: put.body.id,
      version: 2,
      type: 'api_key',
      metadata: { env: 'prod' },
    });

    const read = await asOwner('GET', secretUrl('api/openai'));
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id: put.body.id,
      path: 'api/openai',
      type: 'api_key',
      value: 'sk-second',
      version: 2,
      created_by: `user:${api.t.owner.id}`,
    });

    const versions = await asOwner('GET', secretUrl('api/openai', 'secret-versions'));
    expect(
      versions.body.versions.map((v: { version: number; is_current: boolean }) => [v.version, v.is_current]),
    ).toEqual([
      [1, false],
      [2, true],
    ]);
    const first = await asOwner('GET', `${secretUrl('api/openai', 'secret-version')}/1`);
    expect(first.body).toMatchObject({ value: 'sk-first', version: 1 });

    const disabled = await asOwner('POST', `${secretUrl('api/openai', 'secret-version-disable')}/1`);
    expect(disabled.status).toBe(204);
    expectProblem(await asOwner('GET', `${secretUrl('api/openai', 'secret-version')}/1`), 410, 'gone');

    const rotated = await asOwner('POST', secretUrl('api/openai', 'secret-rotate'), {
      json: { length: 24, charset: 'alphanumeric' },
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ version: 3, type: 'api_key' });
    const rotatedValue = (await asOwner('GET', secretUrl('api/openai'))).body.value;
    expect(rotatedValue).toMatch(/^[A-Za-z0-9]{24}$/u);

    const rolledBack = await asOwner('POST', `${secretUrl('api/openai', 'secret-rollback')}/2`);
    expect(rolledBack.status).toBe(201);
    expect(rolledBack.body.version).toBe(4);
    expect((await asOwner('GET', secretUrl('api/openai'))).body).toMatchObject({
      value: 'sk-second',
      version: 4,
    });

    const described = await asOwner('GET', secretUrl('api/openai', 'secret-describe'));
    expect(described.body).toMatchObject({ path: 'api/openai', version: 4, metadata: { env: 'prod' } });
    expect(described.text).not.toContain('sk-');
  });

  it('are listed by prefix, a page at a time, never with values', async () => {
    for (const path of ['list/a', 'list/b', 'list/c', 'other/d']) {
      await asOwner('PUT', secretUrl(path), { json: { value: `value-of-${path}` } });
    }
    const firstPage = await asOwner('GET', `/v1/vaults/${vaultId}/secrets?prefix=list/&limit=2`);
    expect(firstPage.body.secrets.map((s: { path: string }) => s.path)).toEqual(['list/a', 'list/b']);
    expect(firstPage.body.next_cursor).toBe('list/b');
    const secondPage = await asOwner(
      'GET',
      `/v1/vaults/${vaultId}/secrets?prefix=list/&limit=2&cursor=${encodeURIComponent(firstPage.body.next_cursor)}`,
    );
    expect(secondPage.body).toEqual({
      secrets: [expect.objectContaining({ path: 'list/c' })],
      next_cursor: null,
    });
    expect(firstPage.text + secondPage.text).not.toContain('value-of-');
    expectProblem(await asOwner('GET', `/v1/vaults/${vaultId}/secrets?limit=0`), 400, 'invalid_input');
    expectProblem(
      await asOwner('GET', `/v1/vaults/${vaultId}/secrets?limit=2&limit=3`),
      400,
      'invalid_input',
    );
  });

  it('are soft-deleted (204), restored, and purged', async () => {
    await asOwner('PUT', secretUrl('tmp/x'), { json: { value: 'temporary' } });
    expect((await asOwner('DELETE', secretUrl('tmp/x'))).status).toBe(204);
    expectProblem(await asOwner('GET', secretUrl('tmp/x')), 410, 'gone');
    const withDeleted = await asOwner(
      'GET',
      `/v1/vaults/${vaultId}/secrets?prefix=tmp/&include_deleted=true`,
    );
    expect(withDeleted.body.secrets).toEqual([
      expect.objectContaining({ path: 'tmp/x', deleted_at: expect.any(String) }),
    ]);

    const restored = await asOwner('POST', secretUrl('tmp/x', 'secret-restore'));
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ path: 'tmp/x', deleted_at: null });
    expect((await asOwner('GET', secretUrl('tmp/x'))).body.value).toBe('temporary');

    expect((await asOwner('DELETE', secretUrl('tmp/x', 'secret-purge'))).status).toBe(204);
    expectProblem(await asOwner('GET', secretUrl('tmp/x')), 404, 'not_found');
  });

  it('take each path segment percent-decoded once', async () => {
    const put = await asOwner(
      'PUT',
      secretUrl(['team a', 'db@prod', 'pass:word'].map(encodeURIComponent).join('/')),
      {
        json: { value: 'encoded-path-value' },
      },
    );
    expect(put.status).toBe(201);
    expect(put.body.path).toBe('team a/db@prod/pass:word');
    expect((await asOwner('GET', secretUrl('team%20a/db%40prod/pass%3Aword'))).body.value).toBe(
      'encoded-path-value',
    );
    // An encoded '/' is a separator once decoded: the same secret, not another one.
    expect((await asOwner('GET', secretUrl('team%20a%2Fdb%40prod%2Fpass%3Aword'))).body.value).toBe(
      'encoded-path-value',
    );
  });

  it('refuse path traversal and control characters in the URL, storing nothing', async () => {
    const before = (await asOwner('GET', `/v1/vaults/${vaultId}/secrets?include_deleted=true&limit=1000`))
      .body.secrets;
    const attempts = [
      '..%2Fescape',
      '%2e%2e/escape',
      '%2E%2E%2Fescape',
      'a/%2e%2e/b',
      'a/../b',
      './a',
      'a%2F%2Fb',
      'a//b',
      '%00',
      'a%00b',
      'a%0Ab',
      '%252e%252e/escape',
      // Decoded once, %2540 is '%40', which no path may hold; decoded twice it would be '@'.
      'a%2540b',
      'a%5Cb',
      'a/%zz',
      '',
    ];
    for (const path of attempts) {
      // node:http sends the path exactly as written: fetch would resolve the dot segments first.
      const answer = await api.raw('PUT', secretUrl(path), {
        json: { value: 'planted' },
        credential: api.t.ownerApiKey,
      });
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expectProblem(answer, 400, 'invalid_input');
      const read = await api.raw('GET', secretUrl(path), { credential: api.t.ownerApiKey });
      expect({ path, status: read.status }).toEqual({ path, status: 400 });
    }
    const after = (await asOwner('GET', `/v1/vaults/${vaultId}/secrets?include_deleted=true&limit=1000`)).body
      .secrets;
    expect(after).toEqual(before);
    expect(JSON.stringify(after)).not.toContain('escape');
  });

  it('need a version number at the end of version URLs', async () => {
    for (const tail of ['api/openai/latest', 'api/openai/0', 'api/openai/-1', 'api/openai/1.5', '3']) {
      const answer = await asOwner('GET', `/v1/vaults/${vaultId}/secret-version/${tail}`);
      expectProblem(answer, 400, 'invalid_input');
    }
    expectProblem(await asOwner('GET', `${secretUrl('api/openai', 'secret-version')}/99`), 404, 'not_found');
  });

  it('answer 404 for an unknown path or vault, and 400 for a bad body', async () => {
    expectProblem(await asOwner('GET', secretUrl('no/such/secret')), 404, 'not_found');
    expectProblem(
      await asOwner('GET', '/v1/vaults/01234567-89ab-7def-8123-456789abcdef/secrets/x'),
      404,
      'not_found',
    );
    const bad = await asOwner('PUT', secretUrl('api/typed'), { json: { value: 'v', type: 'not-a-type' } });
    expect(expectProblem(bad, 400, 'invalid_input').detail).toMatch(/type: must be one of/u);
    expectProblem(
      await asOwner('PUT', secretUrl('api/empty'), { json: { value: '' } }),
      400,
      'invalid_input',
    );
    expectProblem(await asOwner('GET', secretUrl('api/typed')), 404, 'not_found');
  });
});
