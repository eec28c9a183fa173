import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineVaultClient } from '../../main/api/engine-vault-client.js';
import { createTalonMcpServer } from '../../mcp/talon-tools.js';
import { type TestUpstream, startTestUpstream } from '../api/http-request-fixtures.js';
import { type TestEngine, createTestEngine } from '../fixtures/test-engine.js';
import { callTool, toolError, toolText } from './mcp-fixtures.js';

/** http_request and request_secret as an agent reads them: values never in a tool's text. */

let te: TestEngine;
let upstream: TestUpstream;
let vaultId: string;
let agent: { id: string; apiKey: string };
const clients: Client[] = [];
const stripe = 'sk_live_mcp_stripe_value_42';

async function connectAsAgent(): Promise<Client> {
  const principal = await te.engine.auth.authenticate(agent.apiKey, te.call());
  const server = createTalonMcpServer(
    new EngineVaultClient(te.engine, principal, () => te.call({ via: 'mcp' }), vaultId),
    { approvalWaitMs: 20_000 },
  );
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'use-tools-test', version: '1.0.0' });
  await client.connect(clientSide);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  upstream = await startTestUpstream();
  te = await createTestEngine({ engineOptions: { outbound: { ca: upstream.ca } } });
  vaultId = (await te.engine.vaults.create(te.owner, { name: 'mcp-use' }, te.call())).id;
  await te.engine.secrets.put(
    te.owner,
    vaultId,
    'api-keys/stripe',
    { type: 'api_key', value: stripe, metadata: { allowed_hosts: ['localhost'] } },
    te.call(),
  );
  const created = te.engine.agents.create(te.owner, { name: 'mcp-user' }, te.call());
  agent = { id: created.agent.id, apiKey: created.api_key };
  te.engine.policies.create(
    te.owner,
    vaultId,
    {
      secret_path_pattern: 'api-keys/**',
      principal_type: 'agent',
      principal_id: agent.id,
      permissions: ['use'],
    },
    te.call(),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await upstream?.close();
  await te?.cleanup();
});

describe('http_request', () => {
  it('works for a use-only agent whose get_secret is refused, and masks the echo', async () => {
    const client = await connectAsAgent();
    const refused = await toolError(client, 'get_secret', { path: 'api-keys/stripe' });
    expect(refused).toMatch(/use-only/u);
    const text = await toolText(client, 'http_request', {
      method: 'POST',
      url: `https://localhost:${upstream.httpsPort}/echo`,
      headers: { authorization: 'Bearer {{secret:api-keys/stripe}}' },
      body: 'key={{secret:api-keys/stripe}}',
    });
    expect(text).not.toContain(stripe);
    const answer = JSON.parse(text) as { status: number; body: string };
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({
      body: 'key=***',
      headers: { authorization: 'Bearer ***' },
    });
  });

  it('answers a refused host as a tool error, naming the rule', async () => {
    const client = await connectAsAgent();
    const text = await toolError(client, 'http_request', {
      method: 'GET',
      url: `https://127.0.0.1:${upstream.httpsPort}/echo`,
      headers: { authorization: '{{secret:api-keys/stripe}}' },
    });
    expect(text).toMatch(/allowed_hosts/u);
  });
});

describe('request_secret', () => {
  it('waits for the human to store the credential, then gives its path and metadata, never the value', async () => {
    const client = await connectAsAgent();
    const asked = callTool(client, 'request_secret', {
      path: 'api-keys/openai',
      description: 'The OpenAI key, to summarise the tickets',
    });
    // The human sees the request in the approval queue and stores the value.
    let pending: { id: string; summary: string } | undefined;
    for (let i = 0; i < 100 && !pending; i += 1) {
      pending = te.engine.approvals
        .list(te.owner, { status: 'pending' })
        .find((a) => a.action === 'secret.request');
      if (!pending) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(pending?.summary).toMatch(/mcp-user.*api-keys\/openai/u);
    const stored = await te.engine.use.fulfilSecretRequest(
      te.owner,
      pending!.id,
      { value: 'sk-openai-typed-by-human', metadata: { allowed_hosts: ['api.openai.com'] } },
      te.call(),
    );
    expect(stored).toMatchObject({ path: 'api-keys/openai', type: 'api_key' });
    const answer = await asked;
    expect(answer.isError).toBe(false);
    expect(answer.text).toContain("stored the credential at 'api-keys/openai'");
    expect(answer.text).toContain('api.openai.com');
    expect(answer.text).not.toContain('sk-openai-typed-by-human');
    expect(te.engine.approvals.get(te.owner, pending!.id)).toMatchObject({ status: 'approved' });
  }, 30_000);

  it('says so when the human declines', async () => {
    const client = await connectAsAgent();
    const asked = callTool(client, 'request_secret', { path: 'api-keys/aws', description: 'AWS key' });
    let pending: { id: string } | undefined;
    for (let i = 0; i < 100 && !pending; i += 1) {
      pending = te.engine.approvals
        .list(te.owner, { status: 'pending' })
        .find(
          (a) => a.action === 'secret.request' && (a.details as { path?: string }).path === 'api-keys/aws',
        );
      if (!pending) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    te.engine.approvals.decide(te.owner, pending!.id, { decision: 'reject', reason: 'not now' }, te.call());
    const answer = await asked;
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(/rejected/u);
  }, 30_000);
});
