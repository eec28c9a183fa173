import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiRequest, type TestApi, expectProblem, startTestApi } from '../fixtures/test-api-server.js';
import { withRawDatabase } from '../fixtures/test-engine.js';

let api: TestApi;
let vaultId: string;

const asOwner = (method: string, path: string, request: ApiRequest = {}) =>
  api.request(method, path, { credential: api.t.ownerApiKey, ...request });

const canary = 'sk-audit-canary-93e1';

beforeAll(async () => {
  api = await startTestApi();
  vaultId = (await asOwner('POST', '/v1/vaults', { json: { name: 'audited' } })).body.id;
  await asOwner('PUT', `/v1/vaults/${vaultId}/secrets/api/canary`, { json: { value: canary } });
  await asOwner('GET', `/v1/vaults/${vaultId}/secrets/api/canary`);
});

afterAll(async () => {
  await api?.close();
});

describe('personal API keys', () => {
  it('are listed without the key, created (201) once shown, exchanged, and revoked (204)', async () => {
    const listed = await asOwner('GET', '/v1/auth/api-keys');
    expect(listed.status).toBe(200);
    expect(listed.body.keys).toEqual([
      expect.objectContaining({
        name: 'first key',
        key_prefix: api.t.ownerApiKey.slice(0, 8) + '…',
        is_active: true,
      }),
    ]);
    expect(listed.text).not.toContain(api.t.ownerApiKey);

    const created = await asOwner('POST', '/v1/auth/api-keys', { json: { name: 'laptop' } });
    expect(created.status).toBe(201);
    expect(created.body.api_key).toMatch(/^1ck_/u);
    expect(created.body.key).toMatchObject({ name: 'laptop', scopes: [], is_active: true, revoked_at: null });
    expect(created.body.key).not.toHaveProperty('api_key');
    const key = created.body.api_key as string;
    expect((await api.request('GET', '/v1/vaults', { credential: key })).status).toBe(200);

    const exchanged = await api.request('POST', '/v1/auth/api-key-token', { json: { api_key: key } });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect((await api.request('GET', '/v1/vaults', { credential: exchanged.body.access_token })).status).toBe(
      200,
    );

    expect((await asOwner('DELETE', `/v1/auth/api-keys/${created.body.key.id}`)).status).toBe(204);
    expectProblem(await api.request('GET', '/v1/vaults', { credential: key }), 401, 'unauthenticated');
    expectProblem(
      await api.request('POST', '/v1/auth/api-key-token', { json: { api_key: key } }),
      401,
      'unauthenticated',
    );
    expectProblem(await asOwner('DELETE', `/v1/auth/api-keys/${created.body.key.id}`), 404, 'not_found');
    const after = await asOwner('GET', '/v1/auth/api-keys');
    expect(after.body.keys.find((k: { id: string }) => k.id === created.body.key.id)).toMatchObject({
      is_active: false,
      revoked_at: expect.any(String),
    });
  });

  it('refuse what Talon cannot honour, and agents', async () => {
    expectProblem(
      await asOwner('POST', '/v1/auth/api-keys', { json: { name: 'x', scopes: ['vaults:read'] } }),
      400,
      'invalid_input',
    );
    expectProblem(
      await asOwner('POST', '/v1/auth/api-keys', { json: { name: 'x', expires_at: '2040-01-01T00:00:00Z' } }),
      400,
      'invalid_input',
    );
    expectProblem(await asOwner('POST', '/v1/auth/api-keys', { json: { name: '  ' } }), 400, 'invalid_input');
    const agent = await asOwner('POST', '/v1/agents', { json: { name: 'keyless' } });
    expectProblem(
      await api.request('GET', '/v1/auth/api-keys', { credential: agent.body.api_key }),
      403,
      'forbidden',
    );
    const exchanged = await api.request('POST', '/v1/auth/api-key-token', {
      json: { api_key: agent.body.api_key },
    });
    expect(expectProblem(exchanged, 401, 'unauthenticated').detail).toMatch(/agent-token/u);
  });
});

describe('audit', () => {
  it('lists events newest first, filtered, and never with a value', async () => {
    const all = await asOwner('GET', '/v1/audit/events');
    expect(all.status).toBe(200);
    expect(all.body.count).toBeGreaterThan(3);
    expect(all.body.events[0]).toMatchObject({
      id: expect.any(String),
      action: expect.any(String),
      created_at: expect.any(String),
    });
    expect(all.text).not.toContain(canary);
    expect(all.text).not.toContain(api.t.ownerApiKey);

    const reads = await asOwner('GET', `/v1/audit/events?action=secret.write&vault_id=${vaultId}&limit=1`);
    expect(reads.body.count).toBe(1);
    expect(reads.body.events).toEqual([
      expect.objectContaining({
        action: 'secret.write',
        vault_id: vaultId,
        path: 'api/canary',
        actor_id: api.t.owner.id,
      }),
    ]);
    expect(reads.body.events[0].details).toMatchObject({ via: 'rest', request_id: expect.any(String) });

    await api.request('GET', '/v1/vaults', { credential: 'ocv_unknownunknownunknown' });
    const denied = await asOwner('GET', '/v1/audit/events?outcome=denied');
    expect(denied.body.events.length).toBeGreaterThan(0);
    expect(denied.body.events.every((event: { outcome: string }) => event.outcome === 'denied')).toBe(true);

    const later = await asOwner(
      'GET',
      `/v1/audit/events?from=${encodeURIComponent('2099-01-01T00:00:00+02:00')}`,
    );
    expect(later.body).toEqual({ events: [], count: 0 });
    const ofVault = await asOwner('GET', `/v1/audit/events?vault_id=${vaultId}`);
    expect(ofVault.body.events.map((e: { action: string }) => e.action)).toEqual([
      'secret.read',
      'secret.write',
      'vault.create',
    ]);
    const paged = await asOwner('GET', `/v1/audit/events?vault_id=${vaultId}&limit=1&offset=1`);
    expect(paged.body).toEqual({ events: [ofVault.body.events[1]], count: 3 });
  });

  it('refuses bad filters with 400', async () => {
    for (const query of [
      'limit=0',
      'limit=abc',
      'offset=-1',
      'from=yesterday',
      'outcome=maybe',
      'vault_id=nope',
    ]) {
      expectProblem(await asOwner('GET', `/v1/audit/events?${query}`), 400, 'invalid_input');
    }
  });

  it('verifies the chain', async () => {
    const answer = await asOwner('GET', '/v1/audit/verify');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ valid: true, checked: expect.any(Number) });
    expect(answer.body.checked).toBeGreaterThan(5);
  });
});

describe('a locked Talon', () => {
  it('answers 423 on authenticated and token routes, while health says locked', async () => {
    await api.t.engine.lock(api.t.call());
    try {
      for (const [method, path] of [
        ['GET', '/v1/vaults'],
        ['GET', `/v1/vaults/${vaultId}/secrets/api/canary`],
        ['GET', '/v1/audit/events'],
      ] as const) {
        const answer = await asOwner(method, path);
        expect(expectProblem(answer, 423, 'locked').detail).toMatch(/^Talon is locked/u);
        expect(answer.body.title).toBe('Locked');
      }
      expectProblem(
        await api.request('POST', '/v1/auth/agent-token', { json: { api_key: 'ocv_x' } }),
        423,
        'locked',
      );
      const health = await api.request('GET', '/v1/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'ok', locked: true });
      expect((await api.request('GET', '/v1/health/hsm')).body).toMatchObject({ status: 'ok', locked: true });
    } finally {
      await api.t.engine.unlock(api.t.pin, api.t.call());
    }
    expect((await asOwner('GET', `/v1/vaults/${vaultId}/secrets/api/canary`)).body.value).toBe(canary);
  });
});

describe('a tampered audit log', () => {
  it('fails verification and names the first broken entry', async () => {
    withRawDatabase(api.t.databaseFile, (db) => {
      db.prepare("UPDATE audit_events SET action = 'vault.read' WHERE seq = 3").run();
    });
    const answer = await asOwner('GET', '/v1/audit/verify');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ valid: false, broken_at: 3, reason: expect.any(String) });
  });
});
