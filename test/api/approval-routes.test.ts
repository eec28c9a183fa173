import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApi, expectProblem, startTestApi } from '../fixtures/test-api-server.js';

/** The approval queue over real HTTP: 202 for gated reads, resubmission, decisions, windows, the event stream. */

let api: TestApi;
let vaultId: string;
let agentKey: string;
let agentId: string;

beforeAll(async () => {
  api = await startTestApi();
  const { engine, owner, call } = api.t;
  vaultId = (await engine.vaults.create(owner, { name: 'gated' }, call())).id;
  await engine.secrets.put(owner, vaultId, 'prod/db', { value: 'db-password', type: 'password' }, call());
  const agent = engine.agents.create(owner, { name: 'deployer' }, call());
  agentKey = agent.api_key;
  agentId = agent.agent.id;
  engine.policies.create(
    owner,
    vaultId,
    {
      secret_path_pattern: 'prod/**',
      principal_type: 'agent',
      principal_id: agentId,
      permissions: ['read'],
      require_approval: true,
    },
    call(),
  );
});

afterAll(async () => {
  await api?.close();
});

const read = (query = '', headers: Record<string, string> = {}) =>
  api.request('GET', `/v1/vaults/${vaultId}/secrets/prod/db${query}`, { credential: agentKey, headers });

/** An SSE client on /v1/events: collects events as they arrive. */
async function openEvents(credential: string) {
  const controller = new AbortController();
  const response = await fetch(`${api.url}/v1/events`, {
    headers: { authorization: `Bearer ${credential}` },
    signal: controller.signal,
  });
  const received: { event: string; data: Record<string, unknown> }[] = [];
  const reader = response.body!.getReader();
  let buffer = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += Buffer.from(value).toString('utf8');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/mu.exec(block)?.[1];
          const data = /^data: (.+)$/mu.exec(block)?.[1];
          if (event && data) received.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    } catch {
      // aborted
    }
  })();
  const next = async (type: string, id?: string) => {
    for (let i = 0; i < 200; i += 1) {
      const found = received.find((e) => e.event === type && (id === undefined || e.data.id === id));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no ${type} event arrived`);
  };
  return {
    response,
    next,
    ended: pump,
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}

describe('a gated read over REST', () => {
  it('answers 202 with the approval, and people hear of it on /v1/events', async () => {
    const events = await openEvents(api.t.ownerApiKey);
    expect(events.response.status).toBe(200);
    expect(events.response.headers.get('content-type')).toMatch(/^text\/event-stream/u);
    try {
      const pending = await read();
      expect(pending.status).toBe(202);
      expect(pending.body).toMatchObject({
        status: 'pending',
        action: 'secret.read',
        approval_id: pending.body.id,
        approval_request_id: pending.body.id,
        requester: { type: 'agent', id: agentId, name: 'deployer', client: 'rest' },
      });
      expect(pending.headers.get('location')).toBe(`/v1/approvals/${pending.body.id}/status`);
      expect(pending.text).not.toContain('db-password');
      const created = await events.next('approval.created', pending.body.id);
      expect(created.data).toMatchObject({ status: 'pending', details: { path: 'prod/db' } });

      // Polling while pending, as the agent.
      const status = await api.request('GET', `/v1/approvals/${pending.body.id}/status`, {
        credential: agentKey,
      });
      expect(status.body).toMatchObject({ id: pending.body.id, status: 'pending' });

      const decided = await api.request('POST', `/v1/approvals/${pending.body.id}/decide`, {
        credential: api.t.ownerApiKey,
        json: { decision: 'approve', reason: 'go ahead' },
      });
      expect(decided.status).toBe(200);
      expect(decided.body).toMatchObject({ status: 'approved', decision_reason: 'go ahead' });
      expect((await events.next('approval.decided', pending.body.id)).data).toMatchObject({
        status: 'approved',
      });

      const again = await api.request('POST', `/v1/approvals/${pending.body.id}/decide`, {
        credential: api.t.ownerApiKey,
        json: { decision: 'reject' },
      });
      expectProblem(again, 409, 'conflict');

      const value = await read(`?approval_id=${pending.body.id}`);
      expect(value.status).toBe(200);
      expect(value.body.value).toBe('db-password');
      const replay = await read(`?approval_id=${pending.body.id}`);
      expect(expectProblem(replay, 403, 'forbidden').detail).toMatch(/already used/u);
    } finally {
      await events.close();
    }
  });

  it('takes the approval in X-Approval-ID too, and agents never decide', async () => {
    const pending = await read('', { 'x-approval-reason': 'migrate the database' });
    expect(pending.status).toBe(202);
    expect(pending.body.reason).toBe('migrate the database');
    const byAgent = await api.request('POST', `/v1/approvals/${pending.body.id}/decide`, {
      credential: agentKey,
      json: { decision: 'approve' },
    });
    expectProblem(byAgent, 403, 'forbidden');
    await api.request('POST', `/v1/approvals/${pending.body.id}/decide`, {
      credential: api.t.ownerApiKey,
      json: { decision: 'approve' },
    });
    expect((await read('', { 'x-approval-id': pending.body.id })).body.value).toBe('db-password');
  });

  it('lists approvals for people, only their own for agents; refuses the event stream to agents', async () => {
    const all = await api.request('GET', '/v1/approvals?status=approved', { credential: api.t.ownerApiKey });
    expect(all.status).toBe(200);
    expect(all.body.approvals.length).toBeGreaterThanOrEqual(2);
    expect(all.body.approvals.every((a: { status: string }) => a.status === 'approved')).toBe(true);
    const own = await api.request('GET', '/v1/approvals', { credential: agentKey });
    expect(own.body.approvals.every((a: { agent_id: string }) => a.agent_id === agentId)).toBe(true);
    expectProblem(await api.request('GET', '/v1/events', { credential: agentKey }), 403, 'forbidden');
    expectProblem(
      await api.request('GET', '/v1/approvals?status=maybe', { credential: api.t.ownerApiKey }),
      400,
      'invalid_input',
    );
  });

  it('opens, lists and revokes windows', async () => {
    const pending = await read();
    await api.request('POST', `/v1/approvals/${pending.body.id}/decide`, {
      credential: api.t.ownerApiKey,
      json: { decision: 'approve', grant: { minutes: 30 } },
    });
    expect((await read()).status).toBe(200);
    expect((await read()).status).toBe(200);
    const grants = await api.request('GET', '/v1/approvals/grants', { credential: api.t.ownerApiKey });
    expect(grants.body.grants).toHaveLength(1);
    const revoked = await api.request('DELETE', `/v1/approvals/grants/${grants.body.grants[0].id}`, {
      credential: api.t.ownerApiKey,
    });
    expect(revoked.status).toBe(204);
    expect((await read()).status).toBe(202);
  });

  it('lets an agent ask for an approval of its own', async () => {
    const asked = await api.request('POST', '/v1/approvals/request', {
      credential: agentKey,
      json: {
        action: 'deploy',
        target_type: 'service',
        target_id: 'web',
        summary: 'Deploy web to prod',
        reason: 'release',
      },
    });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({
      status: 'pending',
      action: 'agent.request',
      details: { requested_action: 'deploy' },
      summary: 'Deploy web to prod',
      reason: 'release',
    });
    expectProblem(
      await api.request('POST', '/v1/approvals/request', {
        credential: api.t.ownerApiKey,
        json: { action: 'x', target_type: 'y', target_id: 'z', summary: 's' },
      }),
      403,
      'forbidden',
    );
  });
});

describe('the event stream at lock', () => {
  it('says talon.locked and ends', async () => {
    const events = await openEvents(api.t.ownerApiKey);
    await api.t.engine.lock(api.t.call());
    expect((await events.next('talon.locked')).data).toMatchObject({ at: expect.any(String) });
    await events.ended;
    await events.close();
  });
});
