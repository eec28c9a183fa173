import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApi, expectProblem, startTestApi } from '../fixtures/test-api-server.js';

/** Shares on 1Claw's paths over real HTTP. */

let api: TestApi;
let secretId: string;
let agentKey: string;
const owner = () => api.t.ownerApiKey;
const inADay = () => new Date(api.t.clock.now.getTime() + 86_400_000).toISOString();

beforeAll(async () => {
  api = await startTestApi();
  const { engine, owner: ownerPrincipal, call } = api.t;
  const vaultId = (await engine.vaults.create(ownerPrincipal, { name: 'shared' }, call())).id;
  secretId = (
    await engine.secrets.put(
      ownerPrincipal,
      vaultId,
      'app/key',
      { value: 'the-value', type: 'api_key' },
      call(),
    )
  ).id;
  const agent = engine.agents.create(ownerPrincipal, { name: 'helper' }, call());
  agentKey = agent.api_key;
  engine.policies.create(
    ownerPrincipal,
    vaultId,
    {
      secret_path_pattern: 'app/**',
      principal_type: 'agent',
      principal_id: agent.agent.id,
      permissions: ['read'],
    },
    call(),
  );
});

afterAll(async () => {
  await api?.close();
});

const share = (credential: string, json: Record<string, unknown>) =>
  api.request('POST', `/v1/secrets/${secretId}/share`, { credential, json });

describe('a link share', () => {
  it('is created (201, absolute share_url), read without a credential, counted, and ends at its limit (410)', async () => {
    const created = await share(owner(), {
      recipient_type: 'anyone_with_link',
      expires_at: inADay(),
      max_access_count: 1,
    });
    expect(created.status).toBe(201);
    expect(created.body.share_url).toBe(`${api.url}/v1/share/${created.body.id}`);
    const first = await api.request('GET', `/v1/share/${created.body.id}`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      value: 'the-value',
      path: 'app/key',
      access_count: 1,
      max_access_count: 1,
    });
    expectProblem(await api.request('GET', `/v1/share/${created.body.id}`), 410, 'gone');
  });

  it('asks for its passphrase in X-Share-Passphrase, and is 404 once revoked', async () => {
    const created = await share(owner(), {
      recipient_type: 'anyone_with_link',
      expires_at: inADay(),
      passphrase: 'open sesame 42',
    });
    expectProblem(await api.request('GET', `/v1/share/${created.body.id}`), 403, 'forbidden');
    const opened = await api.request('GET', `/v1/share/${created.body.id}`, {
      headers: { 'x-share-passphrase': 'open sesame 42' },
    });
    expect(opened.body.value).toBe('the-value');
    expect(
      (await api.request('DELETE', `/v1/share/${created.body.id}`, { credential: owner() })).status,
    ).toBe(204);
    expectProblem(
      await api.request('GET', `/v1/share/${created.body.id}`, {
        headers: { 'x-share-passphrase': 'open sesame 42' },
      }),
      404,
      'not_found',
    );
  });

  it('refuses a bad body with a clear 400', async () => {
    const missing = await share(owner(), { recipient_type: 'anyone_with_link' });
    expect(expectProblem(missing, 400, 'invalid_input').detail).toMatch(/expires_at: is required/u);
    const noId = await share(owner(), { recipient_type: 'user', expires_at: inADay() });
    expect(expectProblem(noId, 400, 'invalid_input').detail).toMatch(/recipient_id: is required/u);
  });
});

describe("an agent's share to its creator", () => {
  it('waits for approval, then the creator accepts and reads it with their credential', async () => {
    const created = await share(agentKey, { recipient_type: 'creator', expires_at: inADay() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 'pending_approval',
      approval_status: 'pending',
      max_access_count: 5,
    });
    expectProblem(
      await api.request('POST', `/v1/shares/${created.body.id}/accept`, { credential: owner() }),
      403,
      'forbidden',
    );
    await api.request('POST', `/v1/approvals/${created.body.approval_id}/decide`, {
      credential: owner(),
      json: { decision: 'approve' },
    });
    const inbound = await api.request('GET', '/v1/shares/inbound', { credential: owner() });
    expect(inbound.body.shares.map((s: { id: string }) => s.id)).toContain(created.body.id);
    expect(
      (await api.request('POST', `/v1/shares/${created.body.id}/accept`, { credential: owner() })).status,
    ).toBe(204);
    expectProblem(await api.request('GET', `/v1/share/${created.body.id}`), 401, 'unauthenticated');
    const read = await api.request('GET', `/v1/share/${created.body.id}`, { credential: owner() });
    expect(read.body.value).toBe('the-value');
    const outbound = await api.request('GET', '/v1/shares/outbound', { credential: agentKey });
    expect(outbound.body.shares[0]).toMatchObject({
      id: created.body.id,
      access_count: 1,
      is_accepted: true,
    });
  });

  it('by email is refused to agents (403)', async () => {
    expectProblem(
      await share(agentKey, { recipient_type: 'external_email', email: 'a@b.io', expires_at: inADay() }),
      403,
      'forbidden',
    );
  });
});

describe('the share rate limit', () => {
  it('answers the 11th share in a minute with 429 and Retry-After', async () => {
    api.t.clock.advance(120_000);
    for (let i = 0; i < 10; i += 1) {
      expect(
        (await share(owner(), { recipient_type: 'anyone_with_link', expires_at: inADay() })).status,
      ).toBe(201);
    }
    const limited = await share(owner(), { recipient_type: 'anyone_with_link', expires_at: inADay() });
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
