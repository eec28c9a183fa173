import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';

/**
 * request_secret over REST: the agent's request waits (202 with the approval) until the human
 * stores the value; the agent then learns where it is, never what; only a human can answer.
 */

let api: TestApi;
let vaultId: string;
let agentKey: string;

beforeAll(async () => {
  api = await startTestApi();
  const { engine, owner } = api.t;
  vaultId = (await engine.vaults.create(owner, { name: 'requests' }, api.t.call())).id;
  const agent = engine.agents.create(owner, { name: 'asker' }, api.t.call());
  agentKey = agent.api_key;
  engine.policies.create(
    owner,
    vaultId,
    {
      secret_path_pattern: 'api-keys/**',
      principal_type: 'agent',
      principal_id: agent.agent.id,
      permissions: ['use'],
    },
    api.t.call(),
  );
}, 60_000);

afterAll(async () => {
  await api?.close();
});

const ask = (credential: string, body: unknown, headers: Record<string, string> = {}) =>
  api.request('POST', `/v1/vaults/${vaultId}/secret-requests`, { credential, json: body, headers });

describe('secret requests', () => {
  it('wait for the human, who stores the value; the agent gets path and metadata only', async () => {
    const body = { path: 'api-keys/stripe', description: 'The Stripe key, to refund order 42' };
    const first = await ask(agentKey, body);
    expect(first.status).toBe(202);
    const approvalId = first.body.approval_id as string;
    expect(first.body).toMatchObject({
      action: 'secret.request',
      status: 'pending',
      details: { path: 'api-keys/stripe', type: 'api_key', description: body.description },
    });
    // Asking again finds the same request.
    expect((await ask(agentKey, body)).body.approval_id).toBe(approvalId);

    const byAgent = await api.request('POST', `/v1/secret-requests/${approvalId}/fulfil`, {
      credential: agentKey,
      json: { value: 'sk_live_from_agent' },
    });
    expect(byAgent.status).toBe(403);

    const fulfilled = await api.request('POST', `/v1/secret-requests/${approvalId}/fulfil`, {
      credential: api.t.ownerApiKey,
      json: { value: 'sk_live_typed_by_human', metadata: { allowed_hosts: ['api.stripe.com'] } },
    });
    expect(fulfilled.status).toBe(201);
    expect(fulfilled.text).not.toContain('sk_live_typed_by_human');

    const answered = await ask(agentKey, body, { 'x-approval-id': approvalId });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({
      status: 'stored',
      approval_id: approvalId,
      secret: {
        path: 'api-keys/stripe',
        type: 'api_key',
        version: 1,
        metadata: { allowed_hosts: ['api.stripe.com'] },
      },
    });
    expect(answered.text).not.toContain('sk_live_typed_by_human');

    const again = await api.request('POST', `/v1/secret-requests/${approvalId}/fulfil`, {
      credential: api.t.ownerApiKey,
      json: { value: 'another' },
    });
    expect(again.status).toBe(409);
    const audit = api.t.engine.queryAudit(api.t.owner, { limit: 1000 });
    expect(JSON.stringify(audit)).not.toContain('sk_live_typed_by_human');
  });

  it('refuses a request for a vault the agent cannot see', async () => {
    const other = await api.t.engine.vaults.create(api.t.owner, { name: 'private' }, api.t.call());
    const answer = await api.request('POST', `/v1/vaults/${other.id}/secret-requests`, {
      credential: agentKey,
      json: { path: 'x/y', description: 'please' },
    });
    expect(answer.status).toBe(403);
  });
});
