import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshBeforeExpiryMs } from '../../mcp/agent-token-source.js';
import { HttpVaultClient, type HttpVaultClientOptions } from '../../mcp/http-vault-client.js';
import { VaultClientError } from '../../mcp/vault-client.js';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';
import { type TestEngine, rejectionOf } from '../fixtures/test-engine.js';
import { type McpScenario, createScenario } from './mcp-fixtures.js';

/** HttpVaultClient against Talon's real HTTP server: token exchange and refresh, paths, errors. */

let te: TestEngine;
let scenario: McpScenario;
let api: TestApi;
let baseUrl: string;

beforeAll(async () => {
  api = await startTestApi();
  ({ t: te, url: baseUrl } = api);
  scenario = await createScenario(te);
});

afterAll(async () => {
  await api?.close();
});

/** A client whose clock the test moves, counting the token exchanges it makes. */
function countingClient(options: Partial<HttpVaultClientOptions> = {}) {
  let now = Date.parse('2031-03-04T10:00:00Z');
  const exchanges: unknown[] = [];
  const client = new HttpVaultClient({
    baseUrl,
    credentials: { agentApiKey: scenario.agent.apiKey, agentId: scenario.agent.id },
    vaultId: scenario.vaultId,
    now: () => now,
    fetch: async (input, init) => {
      if (String(input).endsWith('/v1/auth/agent-token')) exchanges.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    },
    ...options,
  });
  return {
    client,
    exchanges,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('agent tokens', () => {
  it('exchanges the key once, and again 60 s before the token expires', async () => {
    const { client, exchanges, advance } = countingClient();
    await client.listSecrets();
    await client.listVaults();
    expect(exchanges).toEqual([{ api_key: scenario.agent.apiKey, agent_id: scenario.agent.id }]);

    advance(3600_000 - refreshBeforeExpiryMs - 1);
    await client.listSecrets();
    expect(exchanges).toHaveLength(1);

    advance(1);
    await client.listSecrets();
    expect(exchanges).toHaveLength(2);
  });

  it('makes one exchange for calls that wait for a token together', async () => {
    const { client, exchanges, advance } = countingClient();
    await Promise.all([
      client.listSecrets(),
      client.listVaults(),
      client.describeSecret(scenario.signerPath),
    ]);
    expect(exchanges).toHaveLength(1);
    advance(3600_000);
    await Promise.all([client.listSecrets(), client.listVaults(), client.listSecrets('app/')]);
    expect(exchanges).toHaveLength(2);
  });

  it('refreshes a token shorter than two minutes at half its lifetime', async () => {
    const short = te.engine.agents.create(
      te.owner,
      { name: 'short-lived', token_ttl_seconds: 60 },
      te.call(),
    );
    const { client, exchanges, advance } = countingClient({
      credentials: { agentApiKey: short.api_key },
      vaultId: undefined,
    });
    await client.listVaults();
    advance(29_999);
    await client.listVaults();
    expect(exchanges).toHaveLength(1);
    advance(1);
    await client.listVaults();
    expect(exchanges).toHaveLength(2);
    // Without ONECLAW_AGENT_ID the key alone is sent, and the key names its agent.
    expect(exchanges[0]).toEqual({ api_key: short.api_key });
  });

  it('uses a static token as given, and reports its expiry as Talon does', async () => {
    const { access_token } = await te.engine.auth.exchangeAgentToken(
      { api_key: scenario.agent.apiKey },
      te.call(),
    );
    const { client, exchanges } = countingClient({ credentials: { agentToken: access_token } });
    expect((await client.listSecrets()).map((secret) => secret.path)).toEqual([scenario.signerPath]);
    te.clock.advance(3600_000 + 60_000);
    try {
      const error = await rejectionOf(client.listSecrets());
      expect(error).toBeInstanceOf(VaultClientError);
      expect(error).toMatchObject({ status: 401, code: 'unauthenticated' });
      expect((error as VaultClientError).detail).toBe(
        'The access token has expired. Exchange your API key for a new one.',
      );
    } finally {
      te.clock.set('2031-03-04T10:00:00.000Z');
    }
    expect(exchanges).toEqual([]);
  });

  it('exchanges the key again once when Talon refuses a token before its time', async () => {
    const { client, exchanges } = countingClient();
    await client.listVaults();
    let refused = 0;
    const refusing = new HttpVaultClient({
      baseUrl,
      credentials: { agentApiKey: scenario.agent.apiKey },
      vaultId: scenario.vaultId,
      fetch: async (input, init) => {
        if (String(input).endsWith('/v1/auth/agent-token')) exchanges.push('exchange');
        else if (refused === 0) {
          // The first token Talon sees is one it no longer accepts.
          refused += 1;
          return fetch(input, {
            ...init,
            headers: { ...(init?.headers as object), authorization: 'Bearer x.y.z' },
          });
        }
        return fetch(input, init);
      },
    });
    expect((await refusing.listSecrets('app/keys/')).map((secret) => secret.path)).toEqual([
      scenario.signerPath,
    ]);
    expect(refused).toBe(1);
    expect(exchanges).toHaveLength(3);
    // A key Talon refuses is reported as the exchange words it, after one retry.
    te.engine.agents.update(te.owner, scenario.stranger.id, { is_active: false }, te.call());
    const deactivated = new HttpVaultClient({
      baseUrl,
      credentials: { agentApiKey: scenario.stranger.apiKey },
      vaultId: scenario.vaultId,
    });
    try {
      expect(await rejectionOf(deactivated.listVaults())).toMatchObject({
        status: 401,
        detail: 'The agent is deactivated. A human can reactivate it in Talon.',
      });
    } finally {
      te.engine.agents.update(te.owner, scenario.stranger.id, { is_active: true }, te.call());
    }
  });

  it('reports a wrong key with the exchange endpoint detail', async () => {
    const { client } = countingClient({
      credentials: { agentApiKey: scenario.stranger.apiKey, agentId: scenario.agent.id },
    });
    const error = (await rejectionOf(client.listSecrets())) as VaultClientError;
    expect(error).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(error.detail).toBe(
      'The agent id and API key do not match. Check ONECLAW_AGENT_ID and ONECLAW_AGENT_API_KEY.',
    );
  });
});

describe('the vault', () => {
  it('is the one in the token when the agent is bound to exactly one', async () => {
    const bound = te.engine.agents.create(
      te.owner,
      { name: 'bound', vault_ids: [scenario.vaultId] },
      te.call(),
    );
    const { client } = countingClient({ credentials: { agentApiKey: bound.api_key }, vaultId: undefined });
    expect(await client.vaultId()).toBe(scenario.vaultId);
  });

  it('must be named when the token does not pin one', async () => {
    const { client } = countingClient({ vaultId: undefined });
    const error = (await rejectionOf(client.listSecrets())) as VaultClientError;
    expect(error).toMatchObject({ status: 400, code: 'vault_required' });
    expect(error.detail).toContain('ONECLAW_VAULT_ID');
  });
});

describe('requests', () => {
  it('encodes each path segment, so any allowed path round-trips', async () => {
    const { client } = countingClient();
    const path = 'app/team a/clé+x=y:z~@1.0';
    const stored = await client.putSecret(path, { value: 'encoded-value', type: 'note' });
    expect(stored).toMatchObject({ path, version: 1, type: 'note' });
    expect(await client.getSecret(path)).toMatchObject({ path, value: 'encoded-value' });
    expect(await client.describeSecret(path)).toMatchObject({ path, type: 'note' });
    expect((await client.listVersions(path)).map((v) => v.version)).toEqual([1]);
    await client.deleteSecret(path);
    expect(await rejectionOf(client.getSecret(path))).toMatchObject({ status: 410, code: 'gone' });
  });

  it('follows list pages to the end', async () => {
    const { client } = countingClient();
    const paths = Array.from({ length: 1003 }, (_, i) => `app/many/${String(i).padStart(4, '0')}`);
    for (const path of paths) {
      await te.engine.secrets.put(te.owner, scenario.vaultId, path, { value: 'v', type: 'note' }, te.call());
    }
    const listed = await client.listSecrets('app/many/');
    expect(listed.map((secret) => secret.path)).toEqual(paths);
  });

  it("maps problem details to VaultClientError, with Talon's detail", async () => {
    const { client } = countingClient();
    const missing = (await rejectionOf(client.getSecret('app/nothing-here'))) as VaultClientError;
    expect(missing).toBeInstanceOf(VaultClientError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    expect(missing.detail).toBe(
      "No secret found at path 'app/nothing-here'. List secrets to see which paths exist.",
    );
    const denied = (await rejectionOf(client.getSecret(scenario.ownerSecretPath))) as VaultClientError;
    expect(denied).toMatchObject({ status: 403, code: 'forbidden' });
    expect(denied.detail).toMatch(/^Access denied: /u);
    expect(await rejectionOf(client.describeSecret('app/nothing-here'))).toMatchObject({ status: 404 });
  });

  it('says how to start Talon when it cannot be reached', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const client = new HttpVaultClient({
      baseUrl: `http://127.0.0.1:${closedPort}`,
      credentials: { agentApiKey: scenario.agent.apiKey },
      vaultId: scenario.vaultId,
    });
    const error = (await rejectionOf(client.listSecrets())) as VaultClientError;
    expect(error).toMatchObject({ status: 503, code: 'talon_unreachable' });
    expect(error.detail).toBe(
      `Cannot reach Talon at http://127.0.0.1:${closedPort} (ECONNREFUSED). Start the Talon app or \`talon serve\`, or point ONECLAW_BASE_URL at it.`,
    );
  });
});
