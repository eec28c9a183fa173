import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiRequest, type TestApi, expectProblem, startTestApi } from '../fixtures/test-api-server.js';

let api: TestApi;
let vaultId: string;

const asOwner = (method: string, path: string, request: ApiRequest = {}) =>
  api.request(method, path, { credential: api.t.ownerApiKey, ...request });

const secretUrl = (path: string) => `/v1/vaults/${vaultId}/secrets/${path}`;

beforeAll(async () => {
  api = await startTestApi();
  vaultId = (await asOwner('POST', '/v1/vaults', { json: { name: 'agents-vault' } })).body.id;
  const seed: [string, string, string][] = [
    ['api/openai', 'api_key', 'sk-openai-value'],
    ['api/stripe', 'api_key', 'sk-stripe-value'],
    ['db/password', 'password', 'db-password-value'],
    ['keys/eth', 'private_key', 'eth-private-key-value'],
  ];
  for (const [path, type, value] of seed) {
    expect((await asOwner('PUT', secretUrl(path), { json: { value, type } })).status).toBe(201);
  }
});

afterAll(async () => {
  await api?.close();
});

let agentCount = 0;

/** A new agent (201 {agent, api_key}) with a policy granting `permissions` on `pattern`. */
async function newAgent(
  body: Record<string, unknown> = {},
  grant: { pattern: string; permissions: string[] } | null = { pattern: 'api/**', permissions: ['read'] },
) {
  agentCount += 1;
  const created = await asOwner('POST', '/v1/agents', { json: { name: `agent-${agentCount}`, ...body } });
  expect(created.status).toBe(201);
  expect(created.body.api_key).toMatch(/^ocv_/u);
  let policyId: string | null = null;
  if (grant) {
    const policy = await asOwner('POST', `/v1/vaults/${vaultId}/policies`, {
      json: {
        principal_type: 'agent',
        principal_id: created.body.agent.id,
        secret_path_pattern: grant.pattern,
        permissions: grant.permissions,
      },
    });
    expect(policy.status).toBe(201);
    policyId = policy.body.id;
  }
  return { id: created.body.agent.id as string, apiKey: created.body.api_key as string, policyId };
}

async function tokenFor(apiKey: string, agentId?: string): Promise<string> {
  const answer = await api.request('POST', '/v1/auth/agent-token', {
    json: agentId ? { agent_id: agentId, api_key: apiKey } : { api_key: apiKey },
  });
  expect(answer.status).toBe(200);
  return answer.body.access_token;
}

describe('agents', () => {
  it('are created, listed, read, changed and deleted by people', async () => {
    const created = await asOwner('POST', '/v1/agents', {
      json: { name: 'ci-bot', description: 'builds', token_ttl_seconds: 600 },
    });
    expect(created.status).toBe(201);
    expect(created.body.agent).toMatchObject({
      name: 'ci-bot',
      description: 'builds',
      is_active: true,
      crypto_proxy_enabled: false,
      intents_api_enabled: false,
      token_ttl_seconds: 600,
      created_by: api.t.owner.id,
    });
    const id = created.body.agent.id;
    const listed = await asOwner('GET', '/v1/agents');
    expect(listed.body.agents.map((agent: { id: string }) => agent.id)).toContain(id);
    expect(listed.text).not.toContain(created.body.api_key);
    expect((await asOwner('GET', `/v1/agents/${id}`)).body).toMatchObject({ id, name: 'ci-bot' });

    const patched = await asOwner('PATCH', `/v1/agents/${id}`, {
      json: { description: null, intents_api_enabled: true },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, description: null, crypto_proxy_enabled: true });
    expectProblem(
      await asOwner('PATCH', `/v1/agents/${id}`, { json: { token_ttl_seconds: 5 } }),
      400,
      'invalid_input',
    );

    expect((await asOwner('DELETE', `/v1/agents/${id}`)).status).toBe(204);
    expectProblem(await asOwner('GET', `/v1/agents/${id}`), 404, 'not_found');
  });

  it('read themselves at /v1/agents/me, and nothing of other agents', async () => {
    const me = await newAgent();
    const other = await newAgent();
    const token = await tokenFor(me.apiKey, me.id);
    const self = await api.request('GET', '/v1/agents/me', { credential: token });
    expect(self.status).toBe(200);
    expect(self.body).toMatchObject({ id: me.id, is_active: true });
    expect((await api.request('GET', '/v1/agents/me', { credential: me.apiKey })).body.id).toBe(me.id);
    expectProblem(
      await api.request('GET', `/v1/agents/${other.id}`, { credential: token }),
      403,
      'forbidden',
    );
    expectProblem(await api.request('GET', '/v1/agents', { credential: token }), 403, 'forbidden');
    expectProblem(
      await api.request('POST', '/v1/agents', { json: { name: 'spawned' }, credential: token }),
      403,
      'forbidden',
    );
    const forPeople = await asOwner('GET', '/v1/agents/me');
    expect(expectProblem(forPeople, 403, 'forbidden').detail).toMatch(/agent credential/u);
  });
});

describe('an agent with read on api/**', () => {
  it('exchanges its key for a token, with or without its id', async () => {
    const agent = await newAgent({ token_ttl_seconds: 900 });
    const withId = await api.request('POST', '/v1/auth/agent-token', {
      json: { agent_id: agent.id, api_key: agent.apiKey },
    });
    expect(withId.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      agent_id: agent.id,
      vault_ids: [],
    });
    expect(withId.body.access_token.split('.')).toHaveLength(3);
    expect((await tokenFor(agent.apiKey)).split('.')).toHaveLength(3);

    const other = await newAgent();
    const mismatched = await api.request('POST', '/v1/auth/agent-token', {
      json: { agent_id: other.id, api_key: agent.apiKey },
    });
    expectProblem(mismatched, 401, 'unauthenticated');
    expectProblem(
      await api.request('POST', '/v1/auth/agent-token', { json: { api_key: 'ocv_wrong' } }),
      401,
      'unauthenticated',
    );
    expectProblem(await api.request('POST', '/v1/auth/agent-token', { json: {} }), 400, 'invalid_input');
    const personal = await api.request('POST', '/v1/auth/agent-token', {
      json: { api_key: api.t.ownerApiKey },
    });
    expectProblem(personal, 401, 'unauthenticated');
  });

  it('reads what its policy grants, with its JWT or its ocv_ key, and nothing else', async () => {
    const agent = await newAgent();
    const token = await tokenFor(agent.apiKey, agent.id);
    for (const credential of [token, agent.apiKey]) {
      const read = await api.request('GET', secretUrl('api/openai'), { credential });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ path: 'api/openai', value: 'sk-openai-value' });

      const denied = await api.request('GET', secretUrl('db/password'), { credential });
      expect(expectProblem(denied, 403, 'forbidden').detail).toMatch(/Access denied/u);
      expect(denied.text).not.toContain('db-password-value');

      const write = await api.request('PUT', secretUrl('api/planted'), {
        json: { value: 'planted' },
        credential,
      });
      expectProblem(write, 403, 'forbidden');
    }
    expectProblem(await asOwner('GET', secretUrl('api/planted')), 404, 'not_found');
    const listed = await api.request('GET', `/v1/vaults/${vaultId}/secrets`, { credential: token });
    expect(listed.body.secrets.map((s: { path: string }) => s.path)).toEqual(['api/openai', 'api/stripe']);
    expect(
      (await api.request('GET', '/v1/vaults', { credential: token })).body.vaults.map(
        (v: { id: string }) => v.id,
      ),
    ).toEqual([vaultId]);
    expectProblem(
      await api.request('GET', `/v1/vaults/${vaultId}/policies`, { credential: token }),
      403,
      'forbidden',
    );
    expectProblem(await api.request('GET', '/v1/audit/events', { credential: token }), 403, 'forbidden');
  });

  it('loses access at once when its policy is deleted, its key rotated, or it is deactivated', async () => {
    const agent = await newAgent();
    const token = await tokenFor(agent.apiKey);
    expect((await api.request('GET', secretUrl('api/openai'), { credential: token })).status).toBe(200);

    // Rotating the key: the old key stops working mid-session, the new one works.
    const rotated = await asOwner('POST', `/v1/agents/${agent.id}/rotate-key`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.api_key).toMatch(/^ocv_/u);
    expect(rotated.body.api_key).not.toBe(agent.apiKey);
    expectProblem(
      await api.request('GET', secretUrl('api/openai'), { credential: agent.apiKey }),
      401,
      'unauthenticated',
    );
    expectProblem(
      await api.request('POST', '/v1/auth/agent-token', { json: { api_key: agent.apiKey } }),
      401,
      'unauthenticated',
    );
    expect(
      (await api.request('GET', secretUrl('api/openai'), { credential: rotated.body.api_key })).status,
    ).toBe(200);

    // Deleting the policy: the token issued before is refused on its next request.
    expect((await asOwner('DELETE', `/v1/vaults/${vaultId}/policies/${agent.policyId}`)).status).toBe(204);
    expectProblem(await api.request('GET', secretUrl('api/openai'), { credential: token }), 403, 'forbidden');

    // Deactivating the agent: every credential of it is refused.
    await asOwner('POST', `/v1/vaults/${vaultId}/policies`, {
      json: {
        principal_type: 'agent',
        principal_id: agent.id,
        secret_path_pattern: 'api/**',
        permissions: ['read'],
      },
    });
    expect((await api.request('GET', secretUrl('api/openai'), { credential: token })).status).toBe(200);
    expect(
      (await asOwner('PATCH', `/v1/agents/${agent.id}`, { json: { is_active: false } })).body.is_active,
    ).toBe(false);
    const refused = await api.request('GET', secretUrl('api/openai'), { credential: token });
    expect(expectProblem(refused, 401, 'unauthenticated').detail).toMatch(/deactivated/u);
    expectProblem(
      await api.request('GET', secretUrl('api/openai'), { credential: rotated.body.api_key }),
      401,
      'unauthenticated',
    );
  });

  it('is refused once its token expires, and with a tampered token', async () => {
    const agent = await newAgent({ token_ttl_seconds: 60 });
    const token = await tokenFor(agent.apiKey);
    expect((await api.request('GET', secretUrl('api/openai'), { credential: token })).status).toBe(200);
    api.t.clock.advance(50_000);
    expect((await api.request('GET', secretUrl('api/openai'), { credential: token })).status).toBe(200);
    // Past 60 s and the 30 s clock tolerance.
    api.t.clock.advance(45_000);
    const expired = await api.request('GET', secretUrl('api/openai'), { credential: token });
    expect(expectProblem(expired, 401, 'unauthenticated').detail).toMatch(/expired/u);
    expect(
      (await api.request('GET', secretUrl('api/openai'), { credential: await tokenFor(agent.apiKey) }))
        .status,
    ).toBe(200);

    const [header, payload, signature] = token.split('.') as [string, string, string];
    const widened = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
        exp: 4_102_444_800,
      }),
    ).toString('base64url');
    expectProblem(
      await api.request('GET', secretUrl('api/openai'), { credential: `${header}.${widened}.${signature}` }),
      401,
      'unauthenticated',
    );
  });
});

describe('crypto proxy over REST', () => {
  it('blocks reads of private keys whatever the policy says', async () => {
    const agent = await newAgent({ intents_api_enabled: true }, { pattern: '**', permissions: ['read'] });
    const token = await tokenFor(agent.apiKey);
    const blocked = await api.request('GET', secretUrl('keys/eth'), { credential: token });
    expect(expectProblem(blocked, 403, 'forbidden').detail).toMatch(/crypto proxy/u);
    expect(blocked.text).not.toContain('eth-private-key-value');
    expect((await api.request('GET', secretUrl('db/password'), { credential: token })).body.value).toBe(
      'db-password-value',
    );
  });
});

describe('policies', () => {
  it('are created (201), listed, updated and deleted (204) by the owner', async () => {
    const agent = await newAgent({}, null);
    const created = await asOwner('POST', `/v1/vaults/${vaultId}/policies`, {
      json: {
        principal_type: 'agent',
        principal_id: agent.id,
        secret_path_pattern: 'db/*',
        permissions: ['write', 'read'],
        conditions: { ip_allowlist: ['127.0.0.1/32'] },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      vault_id: vaultId,
      principal_id: agent.id,
      permissions: ['read', 'write'],
      effect: 'allow',
      priority: 0,
    });
    const listed = await asOwner('GET', `/v1/vaults/${vaultId}/policies`);
    expect(listed.body.policies.map((p: { id: string }) => p.id)).toContain(created.body.id);

    const updated = await asOwner('PUT', `/v1/vaults/${vaultId}/policies/${created.body.id}`, {
      json: { permissions: ['read'], priority: 5 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id: created.body.id,
      permissions: ['read'],
      priority: 5,
      secret_path_pattern: 'db/*',
    });

    // The agent reads over 127.0.0.1, which the allowlist lets through.
    expect((await api.request('GET', secretUrl('db/password'), { credential: agent.apiKey })).status).toBe(
      200,
    );

    expect((await asOwner('DELETE', `/v1/vaults/${vaultId}/policies/${created.body.id}`)).status).toBe(204);
    expectProblem(
      await asOwner('DELETE', `/v1/vaults/${vaultId}/policies/${created.body.id}`),
      404,
      'not_found',
    );
    const refused = await asOwner('POST', `/v1/vaults/${vaultId}/policies`, {
      json: { principal_type: 'agent', principal_id: agent.id, secret_path_pattern: 'x/**', permissions: [] },
    });
    expectProblem(refused, 400, 'invalid_input');
  });

  it('can be simulated: who may do what, and by which policy', async () => {
    const agent = await newAgent();
    const simulate = (body: Record<string, unknown>) =>
      asOwner('POST', `/v1/vaults/${vaultId}/policies/simulate`, { json: body });
    const allowed = await simulate({
      principal_type: 'agent',
      principal_id: agent.id,
      path: 'api/openai',
      permission: 'read',
    });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual({
      allowed: true,
      require_approval: false,
      policy_id: agent.policyId,
      reason: expect.any(String),
    });
    const denied = await simulate({
      principal_type: 'agent',
      principal_id: agent.id,
      path: 'db/password',
      permission: 'read',
    });
    expect(denied.body).toMatchObject({ allowed: false, policy_id: null });
    const write = await simulate({
      principal_type: 'agent',
      principal_id: agent.id,
      path: 'api/openai',
      permission: 'write',
    });
    expect(write.body.allowed).toBe(false);
    const owner = await simulate({
      principal_type: 'user',
      principal_id: api.t.owner.id,
      path: 'db/password',
      permission: 'delete',
    });
    expect(owner.body.allowed).toBe(true);

    expectProblem(
      await simulate({
        principal_type: 'agent',
        principal_id: '01234567-89ab-7def-8123-456789abcdef',
        path: 'a',
        permission: 'read',
      }),
      404,
      'not_found',
    );
    expectProblem(
      await simulate({ principal_type: 'agent', principal_id: agent.id, path: 'a', permission: 'sudo' }),
      400,
      'invalid_input',
    );
    expectProblem(
      await simulate({ principal_type: 'agent', principal_id: agent.id, path: '../a', permission: 'read' }),
      400,
      'invalid_input',
    );
    const byAgent = await api.request('POST', `/v1/vaults/${vaultId}/policies/simulate`, {
      json: { principal_type: 'agent', principal_id: agent.id, path: 'api/openai', permission: 'read' },
      credential: agent.apiKey,
    });
    expectProblem(byAgent, 403, 'forbidden');
  });
});
