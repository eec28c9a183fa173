import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

// The store keeps the rows every request reads in memory, and authentication remembers verified
// JWTs. These tests warm both first, then prove that a change still takes effect on the very next
// request, and that batched reads still count and chain exactly.

let t: TestEngine;
let vaultId: string;

beforeAll(async () => {
  t = await createTestEngine();
  vaultId = (await t.engine.vaults.create(t.owner, { name: 'warm' }, t.call())).id;
  await t.engine.secrets.put(t.owner, vaultId, 'api/key', { type: 'api_key', value: 'warm-value' }, t.call());
});

afterAll(async () => {
  await t?.cleanup();
});

async function agentWithReadPolicy(name: string) {
  const { agent, api_key: apiKey } = t.engine.agents.create(t.owner, { name }, t.call());
  const policy = t.engine.policies.create(
    t.owner,
    vaultId,
    { principal_type: 'agent', principal_id: agent.id, secret_path_pattern: 'api/**', permissions: ['read'] },
    t.call(),
  );
  const token = (await t.engine.auth.exchangeAgentToken({ api_key: apiKey, agent_id: agent.id }, t.call()))
    .access_token;
  return { agentId: agent.id, apiKey, token, policyId: policy.id };
}

/** Authenticate with the credential and read, as a transport does for each request. */
async function readWith(credential: string): Promise<string> {
  const principal = await t.engine.auth.authenticate(credential, t.call());
  return (await t.engine.secrets.get(principal, vaultId, 'api/key', t.call())).value;
}

async function warm(...credentials: string[]): Promise<void> {
  for (let i = 0; i < 20; i += 1) {
    for (const credential of credentials) expect(await readWith(credential)).toBe('warm-value');
  }
}

describe('with the caches warm', () => {
  it('a rotated (revoked) key is refused on the next request; the JWT it got stays good', async () => {
    const { agentId, apiKey, token } = await agentWithReadPolicy('rotated');
    await warm(apiKey, token);
    const { api_key: newKey } = t.engine.agents.rotateKey(t.owner, agentId, t.call());
    await expectTalonError(readWith(apiKey), 'unauthenticated');
    expect(await readWith(newKey)).toBe('warm-value');
    expect(await readWith(token)).toBe('warm-value');
  });

  it('a deactivated agent is refused on the next request, by key and by token', async () => {
    const { agentId, apiKey, token } = await agentWithReadPolicy('deactivated');
    await warm(apiKey, token);
    t.engine.agents.update(t.owner, agentId, { is_active: false }, t.call());
    await expectTalonError(readWith(token), 'unauthenticated');
    await expectTalonError(readWith(apiKey), 'unauthenticated');
  });

  it('a deleted policy stops the next read, by key and by token', async () => {
    const { apiKey, token, policyId } = await agentWithReadPolicy('unpolicied');
    await warm(apiKey, token);
    t.engine.policies.delete(t.owner, vaultId, policyId, t.call());
    await expectTalonError(readWith(apiKey), 'forbidden');
    await expectTalonError(readWith(token), 'forbidden');
  });

  it('a new value is read at once, and a token past its expiry is refused though it was verified before', async () => {
    const { token } = await agentWithReadPolicy('expiring');
    await warm(token);
    await t.engine.secrets.put(t.owner, vaultId, 'api/key', { value: 'warm-value-2' }, t.call());
    const principal = await t.engine.auth.authenticate(token, t.call());
    expect((await t.engine.secrets.get(principal, vaultId, 'api/key', t.call())).value).toBe('warm-value-2');
    await t.engine.secrets.put(t.owner, vaultId, 'api/key', { value: 'warm-value' }, t.call());
    t.clock.advance(2 * 3600 * 1000);
    await expectTalonError(t.engine.auth.authenticate(token, t.call()), 'unauthenticated');
  });

  it('batched reads count every access exactly and chain one entry each, in order', async () => {
    await t.engine.secrets.put(t.owner, vaultId, 'api/counted', { value: 'counted' }, t.call());
    const reads = 700; // more than one batch (512)
    await Promise.all(
      Array.from({ length: reads }, () => t.engine.secrets.get(t.owner, vaultId, 'api/counted', t.call())),
    );
    const described = t.engine.secrets.describe(t.owner, vaultId, 'api/counted', t.call());
    expect(described.access_count).toBe(reads);
    const counts = t.store.audit
      .query({ action: 'secret.read', limit: 10_000 })
      .filter((event) => event.path === 'api/counted')
      .map((event) => (JSON.parse(event.detailsJson) as { access_count?: number }).access_count)
      .reverse();
    expect(counts).toEqual(Array.from({ length: reads }, (_, i) => i + 1));
    expect(t.engine.verifyAudit(t.owner)).toMatchObject({ ok: true });
  });
});
