import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'vitest';
import { type McpScenario, callTool, toolError, toolText } from './mcp-fixtures.js';

const isoTime = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z`;
const uuid = String.raw`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`;

/** Values the scenario stores; none may appear in any answer but get_secret's and get_env_bundle's. */
export const scenarioValues = {
  first: 'sk_live_first_4f9a2c',
  second: 'hunter2-second-value',
  rotated: 'sk_live_rotated_77aa',
  once: 'one-time-pad-value',
  bundle: 'DATABASE_URL=postgres://u:p@db/app\n# a comment\n\nexport TOKEN="quoted-token"\nPAIR=a=b\n',
};

/**
 * Every tool and the `vault://secrets` resource, as the scenario's agent (read, write, delete
 * under `app/**` of the scenario's vault), with 1Claw's exact result texts. Run over each
 * transport: in memory, streamable HTTP and stdio. Returns every answer that must hold no value.
 */
export async function exerciseEveryTool(client: Client, scenario: McpScenario): Promise<string[]> {
  const valueFree: string[] = [];
  const text = async (name: string, args: Record<string, unknown> = {}) => {
    const answer = await toolText(client, name, args);
    valueFree.push(answer);
    return answer;
  };
  const error = async (name: string, args: Record<string, unknown> = {}) => {
    const answer = await toolError(client, name, args);
    valueFree.push(answer);
    return answer;
  };

  // list_vaults: the vault the agent's policy opens.
  expect(await text('list_vaults')).toBe(
    `Found 1 vault(s):\n- ${scenario.vaultName}  (id: ${scenario.vaultId}, created by: user, ${scenario.vaultCreatedAt})`,
  );

  // list_secrets: only what the agent may read; never the owner's secret.
  expect(await text('list_secrets')).toBe(
    `Found 1 secret(s):\n- ${scenario.signerPath}  (type: private_key, version: 1, expires: never)`,
  );

  // put_secret: the default type is api_key; a second put is version 2 with the given type.
  expect(await text('put_secret', { path: 'app/stripe', value: scenarioValues.first })).toBe(
    "Secret stored at 'app/stripe' (version 1, type: api_key).",
  );
  expect(
    await text('put_secret', {
      path: 'app/stripe',
      value: scenarioValues.second,
      type: 'password',
      metadata: { owner: 'billing' },
    }),
  ).toBe("Secret stored at 'app/stripe' (version 2, type: password).");

  // get_secret: compact JSON with the value.
  expect(await toolText(client, 'get_secret', { path: 'app/stripe' })).toBe(
    JSON.stringify({ path: 'app/stripe', type: 'password', version: 2, value: scenarioValues.second }),
  );

  // describe_secret: pretty JSON, no value.
  const described = await text('describe_secret', { path: 'app/stripe' });
  expect(described).toMatch(/^\{\n {2}"path": "app\/stripe",\n/u);
  expect(JSON.parse(described)).toEqual({
    path: 'app/stripe',
    type: 'password',
    version: 2,
    metadata: { owner: 'billing' },
    created_at: expect.stringMatching(new RegExp(`^${isoTime}$`, 'u')),
    expires_at: null,
  });
  expect(Object.keys(JSON.parse(described))).toEqual([
    'path',
    'type',
    'version',
    'metadata',
    'created_at',
    'expires_at',
  ]);

  // list_secrets with and without a matching prefix.
  expect(await text('list_secrets', { prefix: 'app/st' })).toBe(
    'Found 1 secret(s):\n- app/stripe  (type: password, version: 2, expires: never)',
  );
  expect(await text('list_secrets', { prefix: 'nothing/' })).toBe('No secrets found in this vault.');

  // list_versions.
  expect(await text('list_versions', { path: 'app/stripe' })).toMatch(
    new RegExp(`^Versions for 'app/stripe' \\(2 total\\):\\nv1 \\(${isoTime}\\)\\nv2 \\(${isoTime}\\)$`, 'u'),
  );

  // rotate_and_store: a new version, keeping the secret's type when none is given.
  expect(await text('rotate_and_store', { path: 'app/stripe', value: scenarioValues.rotated })).toBe(
    "Rotated secret at 'app/stripe'. New version: 3.",
  );
  expect(JSON.parse(await text('describe_secret', { path: 'app/stripe' }))).toMatchObject({
    type: 'password',
    version: 3,
  });

  // rotate_generate: the value is made in Talon and never shown.
  expect(await text('rotate_generate', { path: 'app/stripe', length: 40, charset: 'alphanumeric' })).toBe(
    "Rotated secret at 'app/stripe' with server-generated value. New version: 4.",
  );
  const generated = JSON.parse(await toolText(client, 'get_secret', { path: 'app/stripe' })) as {
    value: string;
  };
  expect(generated.value).toMatch(/^[A-Za-z0-9]{40}$/u);
  expect(await text('rotate_generate', { path: 'app/stripe' })).toBe(
    "Rotated secret at 'app/stripe' with server-generated value. New version: 5.",
  );
  const defaulted = JSON.parse(await toolText(client, 'get_secret', { path: 'app/stripe' })) as {
    value: string;
  };
  expect(defaulted.value).toMatch(/^[0-9a-f]{32}$/u);

  // get_env_bundle: KEY=VALUE lines as pretty JSON; another type is refused.
  await text('put_secret', { path: 'app/env', value: scenarioValues.bundle, type: 'env_bundle' });
  expect(await toolText(client, 'get_env_bundle', { path: 'app/env' })).toBe(
    JSON.stringify({ DATABASE_URL: 'postgres://u:p@db/app', TOKEN: 'quoted-token', PAIR: 'a=b' }, null, 2),
  );
  expect(await error('get_env_bundle', { path: 'app/stripe' })).toBe(
    "Secret at 'app/stripe' is type 'password', not 'env_bundle'.",
  );

  // max_access_count: the second read is refused with 1Claw's 410 text.
  await text('put_secret', {
    path: 'app/once',
    value: scenarioValues.once,
    type: 'note',
    max_access_count: 1,
  });
  expect(JSON.parse(await toolText(client, 'get_secret', { path: 'app/once' }))).toMatchObject({
    value: scenarioValues.once,
  });
  expect(await error('get_secret', { path: 'app/once' })).toBe(
    "Secret at path 'app/once' is expired or has exceeded its maximum access count.",
  );

  // A path with no secret: 1Claw's 404 text from every tool that reads one.
  for (const tool of ['get_secret', 'describe_secret', 'delete_secret', 'get_env_bundle', 'list_versions']) {
    expect(await error(tool, { path: 'app/missing' })).toBe("No secret found at path 'app/missing'.");
  }

  // Outside the agent's policy: the engine's explanation of the 403.
  // (With an access token the token's scopes refuse it first; with the key, the policies.)
  const denied = await error('get_secret', { path: scenario.ownerSecretPath });
  expect(denied).toMatch(/^Access denied: .*'?other\/secret'?/u);
  expect(await error('put_secret', { path: 'elsewhere/x', value: 'v' })).toMatch(/^Access denied: /u);

  // delete_secret, then the secret is gone for reads.
  expect(await text('delete_secret', { path: 'app/stripe' })).toBe(
    "Secret at 'app/stripe' has been soft-deleted.",
  );
  expect(await error('get_secret', { path: 'app/stripe' })).toBe(
    "Secret at path 'app/stripe' is expired or has exceeded its maximum access count.",
  );
  expect(await error('describe_secret', { path: 'app/stripe' })).toBe(
    "No secret found at path 'app/stripe'.",
  );

  // The vault://secrets resource: metadata of what the agent may read, as pretty JSON.
  const resource = await client.readResource({ uri: 'vault://secrets' });
  expect(resource.contents).toHaveLength(1);
  const listing = resource.contents[0] as { uri: string; mimeType?: string; text: string };
  expect(listing.uri).toBe('vault://secrets');
  expect(listing.mimeType).toBe('application/json');
  expect(JSON.parse(listing.text)).toEqual([
    { path: 'app/env', type: 'env_bundle', version: 1, expires_at: null },
    { path: scenario.signerPath, type: 'private_key', version: 1, expires_at: null },
    { path: 'app/once', type: 'note', version: 1, expires_at: null },
  ]);
  expect(listing.text).toBe(JSON.stringify(JSON.parse(listing.text), null, 2));
  valueFree.push(listing.text);

  // create_vault: owned by the agent.
  const created = await text('create_vault', { name: 'agent-vault', description: 'made by the agent' });
  const createdId = new RegExp(`^Vault created successfully\\.\\n {2}ID: (${uuid})\\n`, 'u').exec(
    created,
  )?.[1];
  expect(createdId).toBeDefined();
  expect(created).toBe(
    `Vault created successfully.\n  ID: ${createdId}\n  Name: agent-vault\n  Owner: agent:${scenario.agent.id}\n\n` +
      'The vault has been automatically shared with your creator. You can now store secrets with put_secret (use the vault list to switch vaults).',
  );
  expect(await text('list_vaults')).toMatch(/^Found 2 vault\(s\):\n/u);

  // grant_access: defaults read and **; only on the agent's own vaults.
  const granted = await text('grant_access', {
    vault_id: createdId,
    principal_type: 'agent',
    principal_id: scenario.stranger.id,
  });
  expect(granted).toMatch(
    new RegExp(
      `^Access granted\\.\\n {2}Policy ID: ${uuid}\\n {2}Vault: ${createdId}\\n {2}Granted to: agent:${scenario.stranger.id}\\n {2}Permissions: read\\n {2}Path pattern: \\*\\*$`,
      'u',
    ),
  );
  expect(
    await text('grant_access', {
      vault_id: createdId,
      principal_type: 'agent',
      principal_id: scenario.stranger.id,
      permissions: ['read', 'write'],
      secret_path_pattern: 'shared/*',
    }),
  ).toMatch(/\n {2}Permissions: read, write\n {2}Path pattern: shared\/\*$/u);
  expect(
    await error('grant_access', {
      vault_id: scenario.vaultId,
      principal_type: 'agent',
      principal_id: scenario.stranger.id,
    }),
  ).toBe("Only the owner of vault 'team-vault' can grant access to it.");

  // Arguments the schema refuses are tool errors too, not protocol failures.
  const invalid = await callTool(client, 'put_secret', { path: 'app/x' });
  expect(invalid.isError).toBe(true);
  expect(invalid.text).toContain('value');

  return valueFree;
}

/** No answer in `texts` holds any of the scenario's values, or the owner's. */
export function expectNoValues(texts: string[], moreValues: string[] = []): void {
  const values = [...Object.values(scenarioValues), 'owner-only-value', ...moreValues];
  for (const answer of texts) {
    for (const value of values) expect(answer).not.toContain(value);
  }
}
