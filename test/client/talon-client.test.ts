import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientOptions,
  TalonClientError,
  createClient,
  isApprovalPending,
  refreshBeforeExpiryMs,
  settle,
} from '../../main/client/index.js';
import { readEventStream } from '../../main/client/event-stream.js';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';
import { rejectionOf } from '../fixtures/test-engine.js';
import { type McpScenario, createScenario } from '../mcp/mcp-fixtures.js';

/** The public TypeScript client against Talon's real HTTP server and engine. */

let api: TestApi;
let scenario: McpScenario;

beforeAll(async () => {
  api = await startTestApi();
  scenario = await createScenario(api.t);
});

afterAll(async () => {
  await api?.close();
});

const owner = () => createClient({ baseUrl: api.url, apiKey: api.t.ownerApiKey });

/** An agent client whose clock the test moves, counting its key exchanges. */
function countingAgent(options: Partial<ClientOptions> = {}) {
  let now = Date.parse('2031-03-04T10:00:00Z');
  const exchanges: unknown[] = [];
  const client = createClient({
    baseUrl: api.url,
    apiKey: scenario.agent.apiKey,
    now: () => now,
    fetch: async (input, init) => {
      if (String(input).endsWith('/v1/auth/agent-token')) exchanges.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    },
    ...options,
  });
  return { client, exchanges, advance: (ms: number) => (now += ms) };
}

describe('1Claw SDK names over /v1', () => {
  it('vaults, secrets and versions, as 1Claw scripts call them', async () => {
    const client = owner();
    const vault = await client.vault.create({ name: 'sdk-vault', description: 'from the client' });
    expect(vault).toMatchObject({
      name: 'sdk-vault',
      description: 'from the client',
      created_by_type: 'user',
    });
    expect((await client.vault.list()).vaults.map((v) => v.id)).toContain(vault.id);
    expect((await client.vault.get(vault.id)).name).toBe('sdk-vault');

    const first = await client.secrets.set(vault.id, 'api keys/stripe+live:1', 'sk_live_1', {
      type: 'api_key',
    });
    expect(first).toMatchObject({ path: 'api keys/stripe+live:1', type: 'api_key', version: 1 });
    const second = await client.secrets.rotate(vault.id, 'api keys/stripe+live:1', 'sk_live_2');
    expect(second.version).toBe(2);
    const read = await client.secrets.get(vault.id, 'api keys/stripe+live:1');
    expect(isApprovalPending(read)).toBe(false);
    expect(read).toMatchObject({ value: 'sk_live_2', version: 2, type: 'api_key' });
    expect(await client.secrets.getVersion(vault.id, 'api keys/stripe+live:1', 1)).toMatchObject({
      value: 'sk_live_1',
    });

    const generated = await client.secrets.rotateGenerate(vault.id, 'api keys/stripe+live:1', {
      length: 24,
      charset: 'alphanumeric',
    });
    expect(generated.version).toBe(3);
    const value = await client.secrets.get(vault.id, 'api keys/stripe+live:1');
    expect(value).toMatchObject({ version: 3 });
    expect((value as { value: string }).value).toMatch(/^[A-Za-z0-9]{24}$/u);

    expect(
      (await client.secrets.listVersions(vault.id, 'api keys/stripe+live:1')).versions.map((v) => v.version),
    ).toEqual(expect.arrayContaining([1, 2, 3]));
    const listed = await client.secrets.list(vault.id, 'api keys/');
    expect(listed.secrets.map((s) => s.path)).toEqual(['api keys/stripe+live:1']);
    expect(JSON.stringify(listed)).not.toContain('sk_live');
    expect(await client.secrets.describe(vault.id, 'api keys/stripe+live:1')).toMatchObject({ version: 3 });

    expect((await client.secrets.rollback(vault.id, 'api keys/stripe+live:1', 1)).version).toBe(4);
    expect(await client.secrets.get(vault.id, 'api keys/stripe+live:1')).toMatchObject({
      value: 'sk_live_1',
    });

    await client.secrets.delete(vault.id, 'api keys/stripe+live:1');
    expect(
      (await rejectionOf(client.secrets.get(vault.id, 'api keys/stripe+live:1'))) as TalonClientError,
    ).toMatchObject({
      name: 'TalonClientError',
    });
    await client.secrets.restore(vault.id, 'api keys/stripe+live:1');
    expect(await client.secrets.get(vault.id, 'api keys/stripe+live:1')).toMatchObject({
      value: 'sk_live_1',
    });
  });

  it('listAll follows next_cursor across pages', async () => {
    const client = owner();
    const vault = await client.vault.create({ name: 'paged' });
    for (let i = 0; i < 5; i += 1) await client.secrets.set(vault.id, `p/${i}`, `v${i}`);
    const page = await client.secrets.list(vault.id, 'p/', { limit: 2 });
    expect(page.secrets).toHaveLength(2);
    expect(page.next_cursor).toBeTruthy();
    expect((await client.secrets.listAll(vault.id, 'p/')).map((s) => s.path)).toEqual([
      'p/0',
      'p/1',
      'p/2',
      'p/3',
      'p/4',
    ]);
  });

  it('agents, grants and the simulator', async () => {
    const client = owner();
    const created = await client.agents.create({ name: 'sdk-agent' });
    expect(created.api_key).toMatch(/^ocv_/u);
    const policy = await client.access.grantAgent(scenario.vaultId, created.agent.id, ['read'], {
      secretPathPattern: 'app/**',
    });
    expect(policy).toMatchObject({
      principal_type: 'agent',
      principal_id: created.agent.id,
      permissions: ['read'],
    });
    expect((await client.access.listGrants(scenario.vaultId)).policies.map((p) => p.id)).toContain(policy.id);
    expect(
      await client.access.simulate(scenario.vaultId, {
        principal_type: 'agent',
        principal_id: created.agent.id,
        path: 'app/x',
        permission: 'read',
      }),
    ).toMatchObject({ allowed: true, policy_id: policy.id });
    await client.access.revoke(scenario.vaultId, policy.id);

    const agent = createClient({ baseUrl: api.url, apiKey: created.api_key });
    expect((await agent.agents.getSelf()).id).toBe(created.agent.id);
    expect(agent.agentId).toBe(created.agent.id);
    const rotated = await client.agents.rotateKey(created.agent.id);
    expect(rotated.api_key).toMatch(/^ocv_/u);
    expect((await client.agents.update(created.agent.id, { description: 'renamed' })).description).toBe(
      'renamed',
    );
    await client.agents.delete(created.agent.id);
  });

  it('the audit log: query and verify', async () => {
    const client = owner();
    const { events, count } = await client.audit.query({ limit: 5 });
    expect(events.length).toBeGreaterThan(0);
    expect(count).toBeGreaterThanOrEqual(events.length);
    expect(await client.audit.verify()).toMatchObject({ valid: true });
  });
});

describe('agent key exchange', () => {
  it('exchanges once, and again 60 s before the token expires', async () => {
    const { client, exchanges, advance } = countingAgent({ agentId: scenario.agent.id });
    await client.secrets.list(scenario.vaultId);
    await client.vault.list();
    expect(exchanges).toEqual([{ api_key: scenario.agent.apiKey, agent_id: scenario.agent.id }]);
    advance(3600_000 - refreshBeforeExpiryMs - 1);
    await client.secrets.list(scenario.vaultId);
    expect(exchanges).toHaveLength(1);
    advance(1);
    await client.secrets.list(scenario.vaultId);
    expect(exchanges).toHaveLength(2);
  });

  it('one exchange for calls that wait together, and the agent id and vaults learnt from it', async () => {
    const { client, exchanges } = countingAgent();
    await Promise.all([
      client.secrets.list(scenario.vaultId),
      client.vault.list(),
      client.secrets.describe(scenario.vaultId, scenario.signerPath),
    ]);
    expect(exchanges).toEqual([{ api_key: scenario.agent.apiKey }]);
    expect(client.agentId).toBe(scenario.agent.id);
    expect(Array.isArray(client.agentVaultIds)).toBe(true);
  });

  it('a bad key is a TalonClientError with status, code and detail', async () => {
    const client = createClient({ baseUrl: api.url, apiKey: 'ocv_not-a-key' });
    const error = (await rejectionOf(client.vault.list())) as TalonClientError;
    expect(error).toBeInstanceOf(TalonClientError);
    expect(error).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(error.detail.length).toBeGreaterThan(10);
  });
});

describe('errors', () => {
  it('a refusal keeps the problem: status, code, detail and request id', async () => {
    const client = owner();
    const error = (await rejectionOf(
      client.secrets.get(scenario.vaultId, 'no/such/secret'),
    )) as TalonClientError;
    expect(error).toBeInstanceOf(TalonClientError);
    expect(error.status).toBe(404);
    expect(error.code).toBe('not_found');
    expect(error.requestId).toBeTruthy();
    expect(TalonClientError.is(error, 'not_found')).toBe(true);
  });

  it('settle gives 1Claw SDK code its { data, error } shape', async () => {
    const client = owner();
    const ok = await settle(client.vault.list());
    expect(ok.error).toBeNull();
    expect(ok.data?.vaults.length).toBeGreaterThan(0);
    const failed = await settle(client.vault.get('00000000-0000-7000-8000-000000000000'));
    expect(failed.data).toBeNull();
    expect(failed.error?.status).toBe(404);
  });

  it('a Talon that is not there says how to start it', async () => {
    const client = createClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'ocv_x' });
    const error = (await rejectionOf(client.vault.list())) as TalonClientError;
    expect(error).toMatchObject({ status: 503, code: 'talon_unreachable' });
    expect(error.detail).toMatch(/talon serve/u);
  });
});

describe('server-sent events', () => {
  function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    return new ReadableStream({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    });
  }

  it('parses events split anywhere across chunks, skipping keep-alives', async () => {
    const text =
      ': keep-alive\n\nevent: approval.created\ndata: {"approval":{"id":"a1","status":"pending"}}\n\n' +
      'event: talon.locked\r\ndata: {}\r\n\r\ndata: line one\ndata: line two\nid: 7\n\n';
    for (let split = 1; split < text.length; split += 7) {
      const events = [];
      for await (const event of readEventStream(streamOf([text.slice(0, split), text.slice(split)])))
        events.push(event);
      expect(events).toEqual([
        { type: 'approval.created', data: { approval: { id: 'a1', status: 'pending' } } },
        { type: 'talon.locked', data: {} },
        { type: 'message', data: 'line one\nline two', id: '7' },
      ]);
    }
  });
});
