import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'vitest';
import type { TestEngine } from '../fixtures/test-engine.js';

/** What the MCP tests act on: one vault of the owner's, and agents with and without access to it. */
export interface McpScenario {
  vaultId: string;
  vaultName: string;
  vaultCreatedAt: string;
  /** May read, write and delete under `app/**` of the vault; nothing else. */
  agent: { id: string; apiKey: string };
  /** Registered, with no policy anywhere. */
  stranger: { id: string; apiKey: string };
  /** Crypto proxy enabled, may read everything under `app/**`. */
  proxied: { id: string; apiKey: string };
  /** Stored by the owner outside the agent's policy. */
  ownerSecretPath: string;
  /** A private_key the agent may read and the proxied agent may not. */
  signerPath: string;
}

export async function createScenario(te: TestEngine): Promise<McpScenario> {
  const { engine, owner } = te;
  const vault = await engine.vaults.create(owner, { name: 'team-vault', description: 'shared' }, te.call());
  const agent = engine.agents.create(owner, { name: 'builder' }, te.call());
  const stranger = engine.agents.create(owner, { name: 'stranger' }, te.call());
  const proxied = engine.agents.create(owner, { name: 'signer', crypto_proxy_enabled: true }, te.call());
  for (const id of [agent.agent.id, proxied.agent.id]) {
    engine.policies.create(
      owner,
      vault.id,
      {
        secret_path_pattern: 'app/**',
        principal_type: 'agent',
        principal_id: id,
        permissions: ['read', 'write', 'delete'],
      },
      te.call(),
    );
  }
  await engine.secrets.put(
    owner,
    vault.id,
    'other/secret',
    { value: 'owner-only-value', type: 'password' },
    te.call(),
  );
  await engine.secrets.put(
    owner,
    vault.id,
    'app/keys/signer',
    { value: '0x4c0883a69102937d6231471b5dbb6204fe512961708279f2e3e8a5d4b8e3a8b1', type: 'private_key' },
    te.call(),
  );
  return {
    vaultId: vault.id,
    vaultName: vault.name,
    vaultCreatedAt: vault.created_at,
    agent: { id: agent.agent.id, apiKey: agent.api_key },
    stranger: { id: stranger.agent.id, apiKey: stranger.api_key },
    proxied: { id: proxied.agent.id, apiKey: proxied.api_key },
    ownerSecretPath: 'other/secret',
    signerPath: 'app/keys/signer',
  };
}

export interface ToolAnswer {
  text: string;
  isError: boolean;
}

/** A tool's answer as the agent reads it: one text, and whether it is a tool error. */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolAnswer> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text?: string }[];
  expect(content).toHaveLength(1);
  expect(content[0]!.type).toBe('text');
  return { text: content[0]!.text!, isError: result.isError === true };
}

/** The text of a tool that must succeed. */
export async function toolText(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<string> {
  const answer = await callTool(client, name, args);
  if (answer.isError) throw new Error(`${name} failed: ${answer.text}`);
  return answer.text;
}

/** The text of a tool that must fail with a tool error (not a protocol error). */
export async function toolError(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<string> {
  const answer = await callTool(client, name, args);
  if (!answer.isError) throw new Error(`${name} succeeded, expected a tool error: ${answer.text}`);
  return answer.text;
}
