import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpVaultClient } from '../../mcp/http-vault-client.js';
import { createTalonMcpServer } from '../../mcp/talon-tools.js';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';

/**
 * Approvals seen from MCP, with the real SDK client: a get_secret under require_approval waits
 * for the human (with progress notifications) and returns the value once approved while waiting;
 * after its wait it answers approval_pending; share_secret and get_approval_status; and the same
 * over /v1 as talon-mcp reaches Talon (202 and polling).
 */

let api: TestApi;
let vaultId: string;
let secretId: string;
let agentKey: string;
let agentId: string;
const clients: Client[] = [];
const unsubscribes: (() => void)[] = [];

beforeAll(async () => {
  api = await startTestApi();
  const { engine, owner, call } = api.t;
  vaultId = (await engine.vaults.create(owner, { name: 'mcp-gated' }, call())).id;
  secretId = (
    await engine.secrets.put(owner, vaultId, 'prod/api', { value: 'sk-gated', type: 'api_key' }, call())
  ).id;
  const agent = engine.agents.create(owner, { name: 'coder' }, call());
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

afterEach(() => {
  for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
  delete process.env.TALON_MCP_APPROVAL_WAIT_SECONDS;
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await api?.close();
});

async function connectHttp(name: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', api.url), {
    requestInit: { headers: { authorization: `Bearer ${agentKey}`, 'x-vault-id': vaultId } },
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** Approve (or reject) each new approval as soon as it is created, after `delayMs`. */
function humanDecides(decision: 'approve' | 'reject', delayMs = 300): { seen: { client: string | null }[] } {
  const seen: { client: string | null }[] = [];
  unsubscribes.push(
    api.t.engine.approvals.subscribe((event) => {
      if (event.type !== 'approval.created') return;
      seen.push({ client: event.approval.requester.client });
      setTimeout(() => {
        api.t.engine.approvals.decide(api.t.owner, event.approval.id, { decision }, api.t.call());
      }, delayMs);
    }),
  );
  return { seen };
}

function text(result: unknown): { text: string; isError: boolean } {
  const parsed = CallToolResultSchema.parse(result);
  const first = parsed.content[0] as { type: string; text: string };
  return { text: first.text, isError: parsed.isError === true };
}

describe('get_secret under require_approval over streamable HTTP', () => {
  it('waits, sends progress, and returns the value when the human approves while it waits', async () => {
    const client = await connectHttp('claude-code');
    const decider = humanDecides('approve', 2500);
    const progress: { progress: number; message?: string }[] = [];
    const result = await client.callTool(
      { name: 'get_secret', arguments: { path: 'prod/api' } },
      CallToolResultSchema,
      {
        onprogress: (update) => progress.push(update),
        resetTimeoutOnProgress: true,
      },
    );
    const answer = text(result);
    expect(answer.isError).toBe(false);
    expect(JSON.parse(answer.text)).toEqual({
      path: 'prod/api',
      type: 'api_key',
      version: 1,
      value: 'sk-gated',
    });
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]!.message).toMatch(/Waiting for a human to approve in Talon/u);
    expect(decider.seen).toEqual([{ client: 'claude-code' }]);
  });

  it('answers approval_pending after its wait, and get_approval_status then the retry finish the job', async () => {
    process.env.TALON_MCP_APPROVAL_WAIT_SECONDS = '1';
    const client = await connectHttp('cursor');
    const pending = text(await client.callTool({ name: 'get_secret', arguments: { path: 'prod/api' } }));
    expect(pending.isError).toBe(true);
    expect(pending.text).toMatch(/^approval_pending: a human must approve this request in Talon first\./u);
    const approvalId = /Approval ID: (\S+)/u.exec(pending.text)![1]!;

    const status = text(
      await client.callTool({ name: 'get_approval_status', arguments: { approval_id: approvalId } }),
    );
    expect(JSON.parse(status.text)).toMatchObject({ id: approvalId, status: 'pending' });
    api.t.engine.approvals.decide(api.t.owner, approvalId, { decision: 'approve' }, api.t.call());
    const retried = text(await client.callTool({ name: 'get_secret', arguments: { path: 'prod/api' } }));
    expect(JSON.parse(retried.text).value).toBe('sk-gated');
    const unknown = text(
      await client.callTool({
        name: 'get_approval_status',
        arguments: { approval_id: '01900000-0000-7000-8000-0000000000aa' },
      }),
    );
    expect(unknown).toEqual({
      isError: true,
      text: 'Approval 01900000-0000-7000-8000-0000000000aa not found.',
    });
  });

  it('says so when the human rejects', async () => {
    const client = await connectHttp('cursor');
    humanDecides('reject', 100);
    const rejected = text(await client.callTool({ name: 'get_secret', arguments: { path: 'prod/api' } }));
    expect(rejected.isError).toBe(true);
    expect(rejected.text).toMatch(/A human rejected this request in Talon/u);
  });
});

describe('share_secret', () => {
  it("shares with the agent's creator, with 1Claw's text and the approval it waits for", async () => {
    api.t.engine.policies.create(
      api.t.owner,
      vaultId,
      {
        secret_path_pattern: 'team/**',
        principal_type: 'agent',
        principal_id: agentId,
        permissions: ['read'],
      },
      api.t.call(),
    );
    const teamId = (
      await api.t.engine.secrets.put(
        api.t.owner,
        vaultId,
        'team/token',
        { value: 'team-value' },
        api.t.call(),
      )
    ).id;
    const client = await connectHttp('claude-code');
    const expires = '2031-12-31T00:00:00.000Z';
    const shared = text(
      await client.callTool({
        name: 'share_secret',
        arguments: { secret_id: teamId, recipient_type: 'creator', expires_at: expires },
      }),
    );
    expect(shared.isError).toBe(false);
    const lines = shared.text.split('\n');
    expect(lines[0]).toBe('Secret shared successfully.');
    expect(lines[2]).toBe('  Recipient: your creator (the human who registered this agent)');
    expect(lines[3]).toBe(`  Expires: ${expires}`);
    expect(lines[4]).toBe('  Max accesses: 5');
    expect(lines[5]).toMatch(/^ {2}URL: .*\/v1\/share\/[0-9a-f-]{36}$/u);
    expect(shared.text).toContain('The recipient must accept the share before they can access the secret.');
    expect(shared.text).toMatch(/A human must approve this share in Talon first \(approval [0-9a-f-]{36}\)/u);

    const missing = text(
      await client.callTool({
        name: 'share_secret',
        arguments: { secret_id: secretId, recipient_type: 'user', expires_at: expires },
      }),
    );
    expect(missing).toEqual({
      isError: false,
      text: 'Error: recipient_id is required when sharing with a user.',
    });
  });
});

describe('over /v1, as talon-mcp reaches Talon', () => {
  it('turns the 202 into a wait by polling, and returns the value once approved', async () => {
    const vaultClient = new HttpVaultClient({
      baseUrl: api.url,
      credentials: { agentApiKey: agentKey },
      vaultId,
      clientName: () => 'stdio-like',
    });
    const server = createTalonMcpServer(vaultClient);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'stdio-like', version: '1.0.0' });
    await client.connect(clientSide);
    clients.push(client);
    const decider = humanDecides('approve', 1200);
    const progress: unknown[] = [];
    const result = await client.callTool(
      { name: 'get_secret', arguments: { path: 'prod/api' } },
      CallToolResultSchema,
      {
        onprogress: (update) => progress.push(update),
      },
    );
    expect(JSON.parse(text(result).text).value).toBe('sk-gated');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(decider.seen).toEqual([{ client: 'stdio-like' }]);
  });
});
