import { request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';
import { type TestEngine, rejectionOf } from '../fixtures/test-engine.js';
import { type McpScenario, createScenario, toolError, toolText } from './mcp-fixtures.js';
import { exerciseEveryTool, expectNoValues } from './tool-scenario.js';

/** The /mcp endpoint of Talon's real HTTP server, driven by the official SDK client and by hand. */

let te: TestEngine;
let scenario: McpScenario;
let api: TestApi;
let baseUrl: string;
const clients: Client[] = [];

beforeAll(async () => {
  api = await startTestApi();
  ({ t: te, url: baseUrl } = api);
  scenario = await createScenario(te);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await api?.close();
});

async function connect(
  credential: string,
  vaultId: string,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), {
    requestInit: { headers: { authorization: `Bearer ${credential}`, 'x-vault-id': vaultId } },
  });
  const client = new Client({ name: 'talon-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

const initializeMessage = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'raw', version: '1' },
  },
};

/** One raw request to /mcp, as a client that gets things wrong would send it. */
async function post(
  body: unknown,
  headers: Record<string, string | undefined>,
  method: 'POST' | 'GET' | 'DELETE' = 'POST',
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(new URL('/mcp', baseUrl), {
    method,
    headers: Object.fromEntries(
      Object.entries({
        'content-type': method === 'POST' ? 'application/json' : undefined,
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
        ...headers,
      }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    ...(method === 'POST' ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const json = /json/u.test(response.headers.get('content-type') ?? '') && text !== '';
  return {
    status: response.status,
    body: json ? (JSON.parse(text) as Record<string, unknown>) : { text },
    headers: response.headers,
  };
}

const agentHeaders = () => ({
  authorization: `Bearer ${scenario.agent.apiKey}`,
  'x-vault-id': scenario.vaultId,
});

describe('every tool over streamable HTTP', () => {
  it("answers with 1Claw's texts, and only get_secret and get_env_bundle show values", async () => {
    const { client } = await connect(scenario.agent.apiKey, scenario.vaultId);
    expect(client.getServerVersion()?.name).toBe('talon');
    const answers = await exerciseEveryTool(client, scenario);
    expectNoValues(answers);
  });

  it('works with the access token of the agent-token exchange as well as with the key', async () => {
    const exchange = await fetch(new URL('/v1/auth/agent-token', baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: scenario.agent.apiKey, agent_id: scenario.agent.id }),
    });
    const { access_token } = (await exchange.json()) as { access_token: string };
    const { client } = await connect(access_token, scenario.vaultId);
    expect(await toolText(client, 'list_secrets', { prefix: 'app/keys/' })).toBe(
      `Found 1 secret(s):\n- ${scenario.signerPath}  (type: private_key, version: 1, expires: never)`,
    );
  });
});

describe('authentication of every request', () => {
  it("refuses a request without credentials, with 1Claw's message", async () => {
    const answer = await post(initializeMessage, { 'x-vault-id': scenario.vaultId });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({
      status: 401,
      code: 'unauthenticated',
      detail: 'Missing Authorization header (Bearer <agent-token>)',
    });
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/u);
  });

  it("refuses a request without X-Vault-ID, with 1Claw's message", async () => {
    const answer = await post(initializeMessage, { authorization: `Bearer ${scenario.agent.apiKey}` });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ detail: 'Missing X-Vault-ID header' });
    const bad = await post(initializeMessage, {
      authorization: `Bearer ${scenario.agent.apiKey}`,
      'x-vault-id': 'vault-1',
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body.detail)).toMatch(/^X-Vault-ID must be a vault id/u);
  });

  it("refuses people's credentials: MCP is for agents", async () => {
    const personalKey = await post(initializeMessage, {
      authorization: `Bearer ${te.ownerApiKey}`,
      'x-vault-id': scenario.vaultId,
    });
    expect(personalKey.status).toBe(401);
    expect(String(personalKey.body.detail)).toMatch(
      /only accepts agent credentials.*Personal API keys \(1ck_\) are for people/u,
    );

    const { access_token } = await te.engine.auth.exchangeApiKeyToken({ api_key: te.ownerApiKey }, te.call());
    const personToken = await post(initializeMessage, {
      authorization: `Bearer ${access_token}`,
      'x-vault-id': scenario.vaultId,
    });
    expect(personToken.status).toBe(401);
    expect(String(personToken.body.detail)).toMatch(/this access token belongs to a person, not an agent/u);
  });

  it('refuses an unknown key with the engine explanation', async () => {
    const answer = await post(initializeMessage, {
      authorization: 'Bearer ocv_not-a-real-key',
      'x-vault-id': scenario.vaultId,
    });
    expect(answer.status).toBe(401);
    expect(answer.body.detail).toBe('The API key is not valid. Check it, or create a new one.');
  });

  it('refuses to open a session on a vault the agent cannot reach', async () => {
    const stranger = await post(initializeMessage, {
      authorization: `Bearer ${scenario.stranger.apiKey}`,
      'x-vault-id': scenario.vaultId,
    });
    expect(stranger.status).toBe(403);
    expect(String(stranger.body.detail)).toMatch(/^Access denied: no policy in vault /u);
    const unknown = await post(initializeMessage, {
      ...agentHeaders(),
      'x-vault-id': '0190f0e2-0000-7000-8000-000000000000',
    });
    expect(unknown.status).toBe(404);
    // And the SDK client sees the refusal as a failed connection.
    const error = await rejectionOf(connect(scenario.stranger.apiKey, scenario.vaultId));
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(403);
  });

  it('refuses a revoked key in the middle of a session, on its next request', async () => {
    const agent = te.engine.agents.create(te.owner, { name: 'revokee' }, te.call());
    te.engine.policies.create(
      te.owner,
      scenario.vaultId,
      {
        secret_path_pattern: 'app/**',
        principal_type: 'agent',
        principal_id: agent.agent.id,
        permissions: ['read'],
      },
      te.call(),
    );
    const { client } = await connect(agent.api_key, scenario.vaultId);
    expect(await toolText(client, 'list_secrets', { prefix: 'app/keys/' })).toMatch(/^Found 1 secret\(s\):/u);

    te.engine.agents.rotateKey(te.owner, agent.agent.id, te.call());
    const error = await rejectionOf(client.callTool({ name: 'list_secrets', arguments: {} }));
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(401);
    expect(error.message).toContain('The API key was revoked or rotated. Use the newest key.');
  });

  it('refuses a deactivated agent that holds a valid access token', async () => {
    const agent = te.engine.agents.create(te.owner, { name: 'deactivated' }, te.call());
    te.engine.policies.create(
      te.owner,
      scenario.vaultId,
      {
        secret_path_pattern: 'app/**',
        principal_type: 'agent',
        principal_id: agent.agent.id,
        permissions: ['read'],
      },
      te.call(),
    );
    const { access_token } = await te.engine.auth.exchangeAgentToken({ api_key: agent.api_key }, te.call());
    const { client } = await connect(access_token, scenario.vaultId);
    await toolText(client, 'list_vaults');
    te.engine.agents.update(te.owner, agent.agent.id, { is_active: false }, te.call());
    const error = await rejectionOf(client.callTool({ name: 'list_vaults', arguments: {} }));
    expect((error as StreamableHTTPError).code).toBe(401);
    expect(error.message).toContain('The agent is deactivated.');
  });

  it('decides policies afresh on every call: a revoked policy is a tool error', async () => {
    const agent = te.engine.agents.create(te.owner, { name: 'policy-revoked' }, te.call());
    const grant = (pattern: string) =>
      te.engine.policies.create(
        te.owner,
        scenario.vaultId,
        {
          secret_path_pattern: pattern,
          principal_type: 'agent',
          principal_id: agent.agent.id,
          permissions: ['read'],
        },
        te.call(),
      );
    grant('app/other/**');
    const signer = grant('app/keys/**');
    const { client } = await connect(agent.api_key, scenario.vaultId);
    expect(JSON.parse(await toolText(client, 'get_secret', { path: scenario.signerPath }))).toMatchObject({
      type: 'private_key',
    });
    te.engine.policies.delete(te.owner, scenario.vaultId, signer.id, te.call());
    expect(await toolError(client, 'get_secret', { path: scenario.signerPath })).toMatch(/^Access denied: /u);
  });

  it('refuses a crypto-proxy agent a private_key, as a tool error', async () => {
    const { client } = await connect(scenario.proxied.apiKey, scenario.vaultId);
    expect(await toolError(client, 'get_secret', { path: scenario.signerPath })).toMatch(
      /^Access denied: agent .* has crypto proxy enabled, so it may never read private_key secrets/u,
    );
  });
});

describe('sessions', () => {
  it('are bound to the agent and the vault that opened them', async () => {
    const { transport } = await connect(scenario.agent.apiKey, scenario.vaultId);
    const sessionId = transport.sessionId!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/u);
    const listTools = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} };

    const same = await post(listTools, { ...agentHeaders(), 'mcp-session-id': sessionId });
    expect(same.status).toBe(200);

    const otherAgent = await post(listTools, {
      authorization: `Bearer ${scenario.proxied.apiKey}`,
      'x-vault-id': scenario.vaultId,
      'mcp-session-id': sessionId,
    });
    expect(otherAgent.status).toBe(403);
    expect(otherAgent.body.detail).toBe(
      'This MCP session was opened by another agent or for another vault; open a session of your own.',
    );

    const otherVault = await te.engine.vaults.create(te.owner, { name: 'second-vault' }, te.call());
    te.engine.policies.create(
      te.owner,
      otherVault.id,
      {
        secret_path_pattern: '**',
        principal_type: 'agent',
        principal_id: scenario.agent.id,
        permissions: ['read'],
      },
      te.call(),
    );
    const wrongVault = await post(listTools, {
      ...agentHeaders(),
      'x-vault-id': otherVault.id,
      'mcp-session-id': sessionId,
    });
    expect(wrongVault.status).toBe(403);
  });

  it('are refused when unknown, and when a request that is not initialize has none', async () => {
    const unknown = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
      { ...agentHeaders(), 'mcp-session-id': '00000000-0000-4000-8000-000000000000' },
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'Session not found' },
      id: null,
    });

    const none = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, agentHeaders());
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    expect((await post(undefined, agentHeaders(), 'GET')).status).toBe(400);
  });

  it('end with DELETE', async () => {
    const { transport } = await connect(scenario.agent.apiKey, scenario.vaultId);
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    const after = await post(
      { jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} },
      { ...agentHeaders(), 'mcp-session-id': sessionId },
    );
    expect(after.status).toBe(404);
  });
});

describe('malformed requests', () => {
  it('answer malformed JSON with a JSON-RPC parse error, and the server goes on', async () => {
    const { client, transport } = await connect(scenario.agent.apiKey, scenario.vaultId);
    const withoutSession = await post('{"jsonrpc": "2.0", "id": 1, "method": ', agentHeaders());
    expect(withoutSession.status).toBe(400);
    expect(withoutSession.body).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error: Invalid JSON' },
      id: null,
    });

    const session = { ...agentHeaders(), 'mcp-session-id': transport.sessionId! };
    const inSession = await post('not json at all', session);
    expect(inSession.status).toBe(400);
    expect(inSession.body).toMatchObject({ error: { code: -32700 } });

    const notJsonRpc = await post({ hello: 'world' }, session);
    expect(notJsonRpc.status).toBe(400);
    expect(notJsonRpc.body).toMatchObject({
      error: { code: -32700, message: 'Parse error: Invalid JSON-RPC message' },
    });

    const unknownMethod = await post({ jsonrpc: '2.0', id: 9, method: 'no/such/method' }, session);
    expect(unknownMethod.status).toBe(200);

    expect(await toolText(client, 'list_vaults')).toMatch(/^Found \d vault\(s\):/u);
  });

  it('still authenticate first: a malformed body without credentials is a 401', async () => {
    const answer = await post('{oops', { 'x-vault-id': scenario.vaultId });
    expect(answer.status).toBe(401);
  });

  it('go through the host guard like every route', async () => {
    // fetch will not send another Host, so this one goes by node:http.
    const status = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify(initializeMessage);
      const request = httpRequest(new URL('/mcp', baseUrl), {
        method: 'POST',
        headers: {
          ...agentHeaders(),
          host: 'talon.evil.example',
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(body),
        },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end(body);
    });
    expect(status).toBe(403);
  });
});
