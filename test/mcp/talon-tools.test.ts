import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineVaultClient } from '../../main/api/engine-vault-client.js';
import { lockedMessage } from '../../main/engine/key-ring.js';
import { envBundleVariables } from '../../mcp/env-bundle.js';
import { createTalonMcpServer, talonMcpVersion } from '../../mcp/talon-tools.js';
import { unexpectedErrorText } from '../../mcp/tools/tool-outcome.js';
import { type VaultClient, VaultClientError } from '../../mcp/vault-client.js';
import { type TestEngine, createTestEngine } from '../fixtures/test-engine.js';
import { type McpScenario, createScenario, toolError, toolText } from './mcp-fixtures.js';
import { exerciseEveryTool, expectNoValues } from './tool-scenario.js';

/** The tools over the SDK's in-memory transport, on the engine in process (EngineVaultClient). */

let te: TestEngine;
let scenario: McpScenario;
const clients: Client[] = [];

async function connect(vaultClient: VaultClient, reports: unknown[] = []): Promise<Client> {
  const server = createTalonMcpServer(vaultClient, { reportUnexpectedError: (error) => reports.push(error) });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'talon-test', version: '1.0.0' });
  await client.connect(clientSide);
  clients.push(client);
  return client;
}

async function connectAs(apiKey: string, vaultId: string): Promise<Client> {
  const principal = await te.engine.auth.authenticate(apiKey, te.call());
  return connect(new EngineVaultClient(te.engine, principal, () => te.call({ via: 'mcp' }), vaultId));
}

beforeAll(async () => {
  te = await createTestEngine();
  scenario = await createScenario(te);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await te?.cleanup();
});

describe('the tool list', () => {
  it("has 1Claw's core tools, list_versions, rotate_generate, share_secret and get_approval_status", async () => {
    const client = await connectAs(scenario.agent.apiKey, scenario.vaultId);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      [
        'create_vault',
        'delete_secret',
        'describe_secret',
        'get_approval_status',
        'get_env_bundle',
        'get_secret',
        'grant_access',
        'list_secrets',
        'list_vaults',
        'list_versions',
        'put_secret',
        'rotate_and_store',
        'rotate_generate',
        'share_secret',
        'simulate_transaction',
        'submit_transaction',
        'sign_transaction',
        'list_transactions',
        'get_transaction',
        'http_request',
        'request_secret',
      ].sort(),
    );
    expect(client.getServerVersion()).toEqual({ name: 'talon', version: talonMcpVersion });
  });

  it("declares 1Claw's arguments, types and defaults", async () => {
    const client = await connectAs(scenario.agent.apiKey, scenario.vaultId);
    const { tools } = await client.listTools();
    const schema = (name: string) => tools.find((tool) => tool.name === name)!.inputSchema;

    const put = schema('put_secret');
    expect(put.required).toEqual(['path', 'value']);
    expect(put.properties).toMatchObject({
      path: { type: 'string', minLength: 1 },
      value: { type: 'string', minLength: 1 },
      type: {
        type: 'string',
        // 1Claw's enum, in its order
        enum: ['api_key', 'password', 'private_key', 'certificate', 'file', 'note', 'ssh_key', 'env_bundle'],
        default: 'api_key',
      },
      metadata: { type: 'object' },
      expires_at: { type: 'string' },
      max_access_count: { type: 'integer', exclusiveMinimum: 0 },
    });

    const grant = schema('grant_access');
    expect(grant.required).toEqual(['vault_id', 'principal_type', 'principal_id']);
    expect(grant.properties).toMatchObject({
      vault_id: { type: 'string', format: 'uuid' },
      principal_type: { type: 'string', enum: ['user', 'agent'] },
      principal_id: { type: 'string', format: 'uuid' },
      permissions: { type: 'array', items: { enum: ['read', 'write', 'delete'] }, default: ['read'] },
      secret_path_pattern: { type: 'string', default: '**' },
    });

    expect(schema('create_vault').properties).toMatchObject({
      name: { type: 'string', minLength: 1, maxLength: 255 },
      description: { type: 'string' },
    });
    expect(schema('create_vault').required).toEqual(['name']);
    expect(schema('rotate_generate').properties).toMatchObject({
      length: { type: 'number', minimum: 8, maximum: 1024 },
      charset: { enum: ['hex', 'base64', 'alphanumeric', 'ascii'] },
    });
    expect(schema('rotate_and_store').required).toEqual(['path', 'value']);
    expect(schema('rotate_and_store').properties).toMatchObject({ type: { type: 'string' } });
    expect(schema('list_secrets').required ?? []).toEqual([]);
    expect(schema('list_secrets').properties).toMatchObject({ prefix: { type: 'string' } });
    expect(Object.keys(schema('list_vaults').properties ?? {})).toEqual([]);
    for (const name of [
      'get_secret',
      'delete_secret',
      'describe_secret',
      'list_versions',
      'get_env_bundle',
    ]) {
      expect(schema(name).required).toEqual(['path']);
      expect(schema(name).properties).toMatchObject({ path: { type: 'string', minLength: 1 } });
    }
  });

  it('annotates honestly: reads are read-only, delete is destructive', async () => {
    const client = await connectAs(scenario.agent.apiKey, scenario.vaultId);
    const { tools } = await client.listTools();
    const annotations = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations ?? {}]));
    for (const name of [
      'list_secrets',
      'get_secret',
      'describe_secret',
      'list_vaults',
      'list_versions',
      'get_env_bundle',
    ]) {
      expect(annotations[name]).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    }
    expect(annotations.delete_secret).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    });
    for (const name of [
      'put_secret',
      'rotate_and_store',
      'rotate_generate',
      'create_vault',
      'grant_access',
    ]) {
      expect(annotations[name]).toMatchObject({
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
      });
    }
  });

  it('lists the vault://secrets resource', async () => {
    const client = await connectAs(scenario.agent.apiKey, scenario.vaultId);
    const { resources } = await client.listResources();
    expect(resources).toEqual([
      expect.objectContaining({
        uri: 'vault://secrets',
        name: 'Vault secrets',
        mimeType: 'application/json',
      }),
    ]);
  });
});

describe('every tool, in process', () => {
  it("answers with 1Claw's texts, and only get_secret and get_env_bundle show values", async () => {
    const client = await connectAs(scenario.agent.apiKey, scenario.vaultId);
    const answers = await exerciseEveryTool(client, scenario);
    expectNoValues(answers);
  });
});

describe('refusals', () => {
  it('refuses a crypto-proxy agent a private_key, with the engine explanation', async () => {
    const client = await connectAs(scenario.proxied.apiKey, scenario.vaultId);
    const text = await toolError(client, 'get_secret', { path: scenario.signerPath });
    expect(text).toMatch(
      /^Access denied: agent .* has crypto proxy enabled, so it may never read private_key secrets/u,
    );
    expect(text).not.toContain('0x4c08');
    // Its other secrets stay readable, and the listing hides what it may not read.
    expect(await toolText(client, 'list_secrets', { prefix: 'app/keys/' })).toBe(
      'No secrets found in this vault.',
    );
  });

  it('refuses an agent without a policy in the vault', async () => {
    const client = await connectAs(scenario.stranger.apiKey, scenario.vaultId);
    const text = await toolError(client, 'list_secrets');
    expect(text).toBe(
      `Access denied: no policy in vault ${scenario.vaultId} grants agent ${scenario.stranger.id} anything. Ask the vault's owner for a policy.`,
    );
    expect(await toolError(client, 'get_secret', { path: 'app/keys/signer' })).toMatch(/^Access denied: /u);
  });

  it('answers with the locked message while Talon is locked', async () => {
    const client = await connectAs(scenario.agent.apiKey, scenario.vaultId);
    await te.engine.lock(te.call());
    try {
      const text = await toolError(client, 'get_secret', { path: scenario.signerPath });
      expect(text).toBe(lockedMessage);
      expect(text).toContain('TALON_HSM_PIN');
      await expect(client.readResource({ uri: 'vault://secrets' })).rejects.toThrow(/Talon is locked/u);
    } finally {
      await te.engine.unlock(te.pin, te.call());
    }
  });

  it('turns an unexpected error into a plain text, reported, with no stack or message', async () => {
    const reports: unknown[] = [];
    const broken = new Error('SQLITE_CORRUPT: at /home/secret/place.db line 42');
    const failing = new Proxy({} as VaultClient, {
      get: () => () => Promise.reject(broken),
    });
    const client = await connect(failing, reports);
    const text = await toolError(client, 'list_secrets');
    expect(text).toBe(unexpectedErrorText);
    expect(reports).toEqual([broken]);
    await expect(client.readResource({ uri: 'vault://secrets' })).rejects.toThrow(unexpectedErrorText);
  });

  it('words other API refusals with their detail', async () => {
    const refusing = new Proxy({} as VaultClient, {
      get: () => () =>
        Promise.reject(new VaultClientError(409, 'conflict', 'You already have a vault named x.')),
    });
    const client = await connect(refusing);
    expect(await toolError(client, 'create_vault', { name: 'x' })).toBe('You already have a vault named x.');
    expect(await toolError(client, 'get_secret', { path: 'p' })).toBe('You already have a vault named x.');
  });
});

describe('kept in step with the rest of Talon', () => {
  it('reads env bundles as the engine stores them: quotes, export, later keys win, no prototype', () => {
    const bundle =
      '\uFEFF# head\nA=1\r\nexport B = "two words"\n\nC=x=y\nA=again\nD=\'single\'\nE=#not-a-comment\n';
    expect({ ...envBundleVariables(bundle) }).toEqual({
      A: 'again',
      B: 'two words',
      C: 'x=y',
      D: 'single',
      E: '#not-a-comment',
    });
    expect(envBundleVariables('__proto__=x').__proto__).toBe('x');
  });

  it("reports package.json's version", () => {
    const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
      bin?: Record<string, string>;
    };
    expect(talonMcpVersion).toBe(packageJson.version);
    expect(packageJson.bin?.['talon-mcp']).toBe('bin/talon-mcp.mjs');
  });
});
