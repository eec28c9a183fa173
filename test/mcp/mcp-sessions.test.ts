import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type McpEndpointOptions, registerMcpEndpoint } from '../../main/api/mcp-endpoint.js';
import { type TestEngine, createTestEngine, rejectionOf } from '../fixtures/test-engine.js';
import { type McpScenario, createScenario, toolError, toolText } from './mcp-fixtures.js';

/**
 * registerMcpEndpoint's own options, on a bare Fastify server (no REST routes, no error handler of
 * the API's): its clock, the idle time-out and the per-agent session cap.
 */

let te: TestEngine;
let scenario: McpScenario;
const apps: FastifyInstance[] = [];
const clients: Client[] = [];
/** A long idle time-out and a cap of two sessions per agent. */
let cappedUrl: string;
/** A short idle time-out. */
let hastyUrl: string;

async function startEndpoint(options: McpEndpointOptions): Promise<string> {
  const app = Fastify();
  apps.push(app);
  await registerMcpEndpoint(app, te.engine, { now: () => te.clock.now, ...options });
  return app.listen({ port: 0, host: '127.0.0.1' });
}

beforeAll(async () => {
  te = await createTestEngine();
  scenario = await createScenario(te);
  cappedUrl = await startEndpoint({ maxSessionsPerAgent: 2 });
  hastyUrl = await startEndpoint({ sessionIdleMs: 300 });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await Promise.all(apps.map((app) => app.close()));
  await te?.cleanup();
});

async function connect(apiKey: string, baseUrl = cappedUrl): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), {
    requestInit: { headers: { authorization: `Bearer ${apiKey}`, 'x-vault-id': scenario.vaultId } },
  });
  const client = new Client({ name: 'talon-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

describe('the MCP endpoint on its own', () => {
  it("answers refusals as problem details without the API's error handler", async () => {
    const response = await fetch(new URL('/mcp', cappedUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-vault-id': scenario.vaultId },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      status: 401,
      code: 'unauthenticated',
      detail: 'Missing Authorization header (Bearer <agent-token>)',
    });
  });

  it('decides with the clock it is given (a policy that expires)', async () => {
    const agent = te.engine.agents.create(te.owner, { name: 'short-grant' }, te.call());
    te.engine.policies.create(
      te.owner,
      scenario.vaultId,
      {
        secret_path_pattern: 'app/**',
        principal_type: 'agent',
        principal_id: agent.agent.id,
        permissions: ['read'],
        expires_at: '2031-03-04T11:00:00Z',
      },
      te.call(),
    );
    const client = await connect(agent.api_key);
    // The test clock says 10:00 UTC on 4 March 2031; the system clock is years earlier.
    expect(await toolText(client, 'describe_secret', { path: scenario.signerPath })).toContain(
      '"private_key"',
    );
    te.clock.set('2031-03-04T12:00:00.000Z');
    try {
      const denied = await toolError(client, 'get_secret', { path: scenario.signerPath });
      expect(denied).toMatch(/^Access denied: .*expired at 2031-03-04T11:00:00.000Z/u);
    } finally {
      te.clock.set('2031-03-04T10:00:00.000Z');
    }
  });

  it("closes an agent's least recently used session beyond its cap", async () => {
    const first = await connect(scenario.agent.apiKey);
    const second = await connect(scenario.agent.apiKey);
    await toolText(second, 'list_vaults');
    const third = await connect(scenario.agent.apiKey);
    await toolText(third, 'list_vaults');
    await toolText(second, 'list_vaults');
    const error = await rejectionOf(first.callTool({ name: 'list_vaults', arguments: {} }));
    expect((error as StreamableHTTPError).code).toBe(404);
    // Another agent's sessions are not counted against this one.
    const other = await connect(scenario.proxied.apiKey);
    await toolText(other, 'list_vaults');
    await toolText(second, 'list_vaults');
  });

  it('closes idle sessions', async () => {
    const client = await connect(scenario.agent.apiKey, hastyUrl);
    await toolText(client, 'list_vaults');
    await new Promise((resolve) => setTimeout(resolve, 900));
    const error = await rejectionOf(client.callTool({ name: 'list_vaults', arguments: {} }));
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(404);
  });
});
