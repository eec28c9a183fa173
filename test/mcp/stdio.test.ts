import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';
import type { TestEngine } from '../fixtures/test-engine.js';
import { type McpScenario, createScenario, toolError, toolText } from './mcp-fixtures.js';
import { exerciseEveryTool, expectNoValues } from './tool-scenario.js';

/**
 * `talon-mcp` as an MCP client starts it: `node bin/talon-mcp.mjs` with ONECLAW_* variables, over
 * stdio, forwarding to Talon's real HTTP server.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const launcher = 'bin/talon-mcp.mjs';

let te: TestEngine;
let scenario: McpScenario;
let api: TestApi;
let baseUrl: string;
const running: { client: Client; problems: string[] }[] = [];

beforeAll(async () => {
  api = await startTestApi();
  ({ t: te, url: baseUrl } = api);
  scenario = await createScenario(te);
});

afterAll(async () => {
  await Promise.all(running.map(({ client }) => client.close().catch(() => undefined)));
  await api?.close();
});

/**
 * Starts talon-mcp with exactly `env` (the SDK adds only HOME, PATH and the like, as MCP clients
 * do). `problems` collects whatever is not a protocol message: stderr, and stdout lines that do
 * not parse.
 */
async function startTalonMcp(env: Record<string, string>): Promise<{ client: Client; problems: string[] }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [launcher],
    cwd: repoRoot,
    env,
    stderr: 'pipe',
  });
  const problems: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => problems.push(`stderr: ${chunk.toString('utf8')}`));
  transport.onerror = (error) => problems.push(`transport: ${error.message}`);
  const client = new Client({ name: 'talon-test', version: '1.0.0' });
  await client.connect(transport);
  const started = { client, problems };
  running.push(started);
  return started;
}

/** Runs the launcher to its exit, for set-ups it must refuse. */
function runToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [launcher], {
      cwd: repoRoot,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('talon-mcp over stdio', () => {
  it("serves every tool with 1Claw's texts, with nothing but protocol messages on stdout", async () => {
    const { client, problems } = await startTalonMcp({
      ONECLAW_BASE_URL: baseUrl,
      ONECLAW_AGENT_ID: scenario.agent.id,
      ONECLAW_AGENT_API_KEY: scenario.agent.apiKey,
      ONECLAW_VAULT_ID: scenario.vaultId,
    });
    expect(client.getServerVersion()?.name).toBe('talon');
    const answers = await exerciseEveryTool(client, scenario);
    expectNoValues(answers);
    expect(problems).toEqual([]);
  });

  it('finds the vault from the agent key alone when the agent is bound to one (TALON_URL alias)', async () => {
    const bound = te.engine.agents.create(
      te.owner,
      { name: 'bound', vault_ids: [scenario.vaultId] },
      te.call(),
    );
    te.engine.policies.create(
      te.owner,
      scenario.vaultId,
      {
        secret_path_pattern: 'app/keys/*',
        principal_type: 'agent',
        principal_id: bound.agent.id,
        permissions: ['read'],
      },
      te.call(),
    );
    const { client, problems } = await startTalonMcp({
      TALON_URL: baseUrl,
      ONECLAW_AGENT_API_KEY: bound.api_key,
    });
    expect(await toolText(client, 'list_secrets')).toBe(
      `Found 1 secret(s):\n- ${scenario.signerPath}  (type: private_key, version: 1, expires: never)`,
    );
    expect(problems).toEqual([]);
  });

  it('works with a static agent token and ONECLAW_VAULT_ID', async () => {
    const { access_token } = await te.engine.auth.exchangeAgentToken(
      { api_key: scenario.agent.apiKey },
      te.call(),
    );
    const { client } = await startTalonMcp({
      ONECLAW_BASE_URL: baseUrl,
      ONECLAW_AGENT_TOKEN: access_token,
      ONECLAW_VAULT_ID: scenario.vaultId,
    });
    expect(
      JSON.parse(await toolText(client, 'describe_secret', { path: scenario.signerPath })),
    ).toMatchObject({
      path: scenario.signerPath,
      type: 'private_key',
    });
  });

  it('answers tools with tool errors when the vault is out of reach or Talon is not running', async () => {
    const elsewhere = await te.engine.vaults.create(te.owner, { name: 'not-for-agents' }, te.call());
    const wrongVault = await startTalonMcp({
      ONECLAW_BASE_URL: baseUrl,
      ONECLAW_AGENT_API_KEY: scenario.agent.apiKey,
      ONECLAW_VAULT_ID: elsewhere.id,
    });
    expect(await toolError(wrongVault.client, 'list_secrets')).toBe(
      `Access denied: no policy in vault ${elsewhere.id} grants agent ${scenario.agent.id} anything. Ask the vault's owner for a policy.`,
    );

    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const offline = await startTalonMcp({
      ONECLAW_BASE_URL: `http://127.0.0.1:${closedPort}`,
      ONECLAW_AGENT_API_KEY: scenario.agent.apiKey,
      ONECLAW_VAULT_ID: scenario.vaultId,
    });
    expect(await toolError(offline.client, 'get_secret', { path: 'app/x' })).toBe(
      `Cannot reach Talon at http://127.0.0.1:${closedPort} (ECONNREFUSED). Start the Talon app or \`talon serve\`, or point ONECLAW_BASE_URL at it.`,
    );
    expect(offline.problems).toEqual([]);
  });

  it('exits 1 without credentials, with a hint on stderr and nothing on stdout', async () => {
    const { code, stdout, stderr } = await runToExit({});
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('ONECLAW_AGENT_ID + ONECLAW_AGENT_API_KEY');
    expect(stderr).toContain('ONECLAW_AGENT_TOKEN + ONECLAW_VAULT_ID');
    expect(stderr).toContain('ONECLAW_BASE_URL');
  });

  it('exits 1 for a static token without a vault, or a personal key', async () => {
    const token = await runToExit({ ONECLAW_AGENT_TOKEN: 'eyJ.static.token' });
    expect(token.code).toBe(1);
    expect(token.stdout).toBe('');
    expect(token.stderr).toMatch(
      /^ONECLAW_VAULT_ID is required when using ONECLAW_AGENT_TOKEN \(static JWT\)\./u,
    );

    const personal = await runToExit({ ONECLAW_AGENT_API_KEY: te.ownerApiKey });
    expect(personal.code).toBe(1);
    expect(personal.stdout).toBe('');
    expect(personal.stderr).toContain('1ck_ keys are personal keys of people, not of agents');
    expect(personal.stderr).not.toContain(te.ownerApiKey);
  });
});
