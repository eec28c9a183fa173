import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentPrincipal, Principal } from '../../main/engine/principal.js';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

let t: TestEngine;
let vaultId: string;
let otherVaultId: string;

beforeAll(async () => {
  t = await createTestEngine();
  vaultId = (await t.engine.vaults.create(t.owner, { name: 'work' }, t.call())).id;
  otherVaultId = (await t.engine.vaults.create(t.owner, { name: 'other' }, t.call())).id;
  const seed: [string, string, string][] = [
    ['api/x/y', 'api_key', 'api-x-y-value'],
    ['api/z', 'api_key', 'api-z-value'],
    ['db/x', 'password', 'db-x-value'],
    ['keys/eth', 'private_key', 'eth-private-key-value'],
    ['keys/ssh', 'ssh_key', 'ssh-key-value'],
    ['keys/openai', 'api_key', 'openai-key-value'],
  ];
  for (const [path, type, value] of seed)
    await t.engine.secrets.put(t.owner, vaultId, path, { type, value }, t.call());
  await t.engine.secrets.put(
    t.owner,
    otherVaultId,
    'api/x/y',
    { type: 'api_key', value: 'other-vault-value' },
    t.call(),
  );
});

afterAll(async () => {
  await t?.cleanup();
});

let agentCount = 0;

/** A fresh agent, authenticated with its API key as a transport would. */
async function newAgent(
  body: Record<string, unknown> = {},
): Promise<{ id: string; apiKey: string; principal: AgentPrincipal }> {
  agentCount += 1;
  const { agent, api_key } = t.engine.agents.create(
    t.owner,
    { name: `agent-${agentCount}`, ...body },
    t.call(),
  );
  const principal = await t.engine.auth.authenticate(api_key, t.call());
  expect(principal).toMatchObject({ type: 'agent', id: agent.id });
  return { id: agent.id, apiKey: api_key, principal: principal as AgentPrincipal };
}

function grant(agentId: string, policy: Record<string, unknown>, vault = vaultId) {
  return t.engine.policies.create(
    t.owner,
    vault,
    { principal_type: 'agent', principal_id: agentId, ...policy },
    t.call(),
  );
}

const read = (principal: Principal, path: string, call = t.call(), vault = vaultId) =>
  t.engine.secrets.get(principal, vault, path, call);
const write = (principal: Principal, path: string, value: string, vault = vaultId) =>
  t.engine.secrets.put(principal, vault, path, { value }, t.call());

describe('an agent without policies', () => {
  it('cannot read, write or list: no matching policy is 403, the vault is not listed, nothing is stored', async () => {
    const { principal } = await newAgent();
    await expectTalonError(read(principal, 'api/x/y'), 'forbidden');
    await expectTalonError(write(principal, 'api/new', 'planted'), 'forbidden');
    expect(t.store.secrets.getSecretByPath(vaultId, 'api/new')).toBeUndefined();
    expect(t.engine.vaults.list(principal)).toEqual([]);
    await expectTalonError(() => t.engine.secrets.list(principal, vaultId, t.call()), 'forbidden');
    await expectTalonError(
      read(principal, 'api/x/y', t.call(), '01234567-89ab-7def-8123-456789abcdef'),
      'not_found',
    );
  });

  it('with a policy elsewhere in the vault, it is forbidden (403) on paths no policy grants', async () => {
    const { id, principal } = await newAgent();
    grant(id, { secret_path_pattern: 'unrelated/**', permissions: ['read'] });
    const error = await expectTalonError(read(principal, 'api/x/y'), 'forbidden');
    expect(error.message).not.toContain('api-x-y-value');
    await expectTalonError(write(principal, 'api/x/y', 'overwritten'), 'forbidden');
    expect(t.engine.secrets.list(principal, vaultId, t.call()).secrets).toEqual([]);
    expect((await read(t.owner, 'api/x/y')).value).toBe('api-x-y-value');
  });
});

describe('policies', () => {
  it('read on api/** allows api/x/y, not db/x, and does not allow writing', async () => {
    const { id, principal } = await newAgent();
    grant(id, { secret_path_pattern: 'api/**', permissions: ['read'] });
    expect((await read(principal, 'api/x/y')).value).toBe('api-x-y-value');
    expect((await read(principal, 'api/z')).value).toBe('api-z-value');
    await expectTalonError(read(principal, 'db/x'), 'forbidden');
    await expectTalonError(write(principal, 'api/x/y', 'overwritten'), 'forbidden');
    await expectTalonError(t.engine.secrets.delete(principal, vaultId, 'api/z', t.call()), 'forbidden');
    expect(t.engine.secrets.list(principal, vaultId, t.call()).secrets.map((s) => s.path)).toEqual([
      'api/x/y',
      'api/z',
    ]);
  });

  it('write needs write; delete needs delete', async () => {
    const { id, principal } = await newAgent();
    grant(id, { secret_path_pattern: 'scratch/*', permissions: ['write'] });
    const written = await write(principal, 'scratch/a', 'agent-written');
    expect(written.version).toBe(1);
    await expectTalonError(read(principal, 'scratch/a'), 'forbidden');
    expect(await read(t.owner, 'scratch/a')).toMatchObject({
      value: 'agent-written',
      created_by: `agent:${id}`,
    });
    await expectTalonError(write(principal, 'scratch/a/deeper', 'no'), 'forbidden');
    await expectTalonError(t.engine.secrets.delete(principal, vaultId, 'scratch/a', t.call()), 'forbidden');
    grant(id, { secret_path_pattern: 'scratch/*', permissions: ['delete'] });
    await t.engine.secrets.delete(principal, vaultId, 'scratch/a', t.call());
    await expectTalonError(read(t.owner, 'scratch/a'), 'gone');
  });

  it('deny beats allow at equal priority; a higher-priority allow beats a deny', async () => {
    const { id, principal } = await newAgent();
    const allow = grant(id, { secret_path_pattern: 'api/**', permissions: ['read'], priority: 5 });
    const deny = grant(id, {
      secret_path_pattern: 'api/x/*',
      permissions: ['read'],
      effect: 'deny',
      priority: 5,
    });
    const error = await expectTalonError(read(principal, 'api/x/y'), 'forbidden');
    expect(error.details).toMatchObject({ policy_id: deny.id });
    expect((await read(principal, 'api/z')).value).toBe('api-z-value');
    t.engine.policies.update(t.owner, vaultId, allow.id, { priority: 6 }, t.call());
    expect((await read(principal, 'api/x/y')).value).toBe('api-x-y-value');
  });

  it('an expired policy grants nothing', async () => {
    const { id, principal } = await newAgent();
    grant(id, {
      secret_path_pattern: 'api/**',
      permissions: ['read'],
      expires_at: new Date(t.clock.now.getTime() + 60_000).toISOString(),
    });
    expect((await read(principal, 'api/z')).value).toBe('api-z-value');
    t.clock.advance(60_000);
    await expectTalonError(read(principal, 'api/z'), 'forbidden');
  });

  it('an IP allowlist admits calls from inside and refuses the rest, and an unknown source', async () => {
    const { id, principal } = await newAgent();
    grant(id, {
      secret_path_pattern: 'api/**',
      permissions: ['read'],
      conditions: { ip_allowlist: ['10.1.0.0/16', '2001:db8::/32'] },
    });
    expect((await read(principal, 'api/z', t.call({ ip: '10.1.200.3' }))).value).toBe('api-z-value');
    expect((await read(principal, 'api/z', t.call({ ip: '2001:db8::7' }))).value).toBe('api-z-value');
    expect((await read(principal, 'api/z', t.call({ ip: '::ffff:10.1.0.9' }))).value).toBe('api-z-value');
    await expectTalonError(read(principal, 'api/z', t.call({ ip: '10.2.0.1' })), 'forbidden');
    await expectTalonError(read(principal, 'api/z', t.call({ ip: '127.0.0.1' })), 'forbidden');
    await expectTalonError(read(principal, 'api/z', { now: t.clock.now }), 'forbidden');
  });

  it('a time window admits calls inside it, by the controllable clock, in its time zone', async () => {
    const saved = t.clock.now;
    try {
      const { id, principal } = await newAgent();
      grant(id, {
        secret_path_pattern: 'api/**',
        permissions: ['read'],
        conditions: {
          time_window: {
            after: '09:00',
            before: '17:00',
            timezone: 'Europe/Paris',
            days: ['mon', 'tue', 'wed', 'thu', 'fri'],
          },
        },
      });
      t.clock.set('2031-03-04T08:30:00Z'); // Tuesday 09:30 in Paris (UTC+1 in March before DST)
      expect((await read(principal, 'api/z')).value).toBe('api-z-value');
      t.clock.set('2031-03-04T07:59:00Z'); // 08:59 in Paris
      await expectTalonError(read(principal, 'api/z'), 'forbidden');
      t.clock.set('2031-03-04T16:00:00Z'); // 17:00 in Paris: before is exclusive
      await expectTalonError(read(principal, 'api/z'), 'forbidden');
      t.clock.set('2031-03-08T10:00:00Z'); // Saturday
      await expectTalonError(read(principal, 'api/z'), 'forbidden');
    } finally {
      t.clock.set(saved);
    }
  });

  it('require_approval answers approval_required instead of the value', async () => {
    const { id, principal } = await newAgent();
    const policy = grant(id, { secret_path_pattern: 'db/*', permissions: ['read'], require_approval: true });
    const error = await expectTalonError(read(principal, 'db/x'), 'approval_required');
    expect(error.status).toBe(403);
    expect(error.details).toMatchObject({ policy_id: policy.id });
    expect(error.message).not.toContain('db-x-value');
    expect(t.store.secrets.getSecretByPath(vaultId, 'db/x')?.accessCount).toBe(0);
  });

  it('an agent bound by vault_ids to another vault cannot reach this one, whatever its policies', async () => {
    const { id, principal } = await newAgent({ vault_ids: [otherVaultId] });
    grant(id, { secret_path_pattern: '**', permissions: ['read', 'write'] });
    grant(id, { secret_path_pattern: '**', permissions: ['read'] }, otherVaultId);
    const refused = await expectTalonError(read(principal, 'api/x/y'), 'forbidden');
    expect(refused.message).toContain('bound to other vaults');
    await expectTalonError(write(principal, 'api/x/y', 'overwritten'), 'forbidden');
    expect(t.engine.vaults.list(principal).map((v) => v.id)).toEqual([otherVaultId]);
    expect((await read(principal, 'api/x/y', t.call(), otherVaultId)).value).toBe('other-vault-value');
    const decision = t.engine.policies.simulate(t.owner, vaultId, principal, 'api/x/y', 'read', t.call());
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toContain('vault_ids');
  });
});

describe('crypto proxy', () => {
  it('an agent with crypto proxy cannot read private_key or ssh_key secrets, even with a read policy', async () => {
    const { id, principal } = await newAgent({ crypto_proxy_enabled: true });
    grant(id, { secret_path_pattern: '**', permissions: ['read'] });
    const error = await expectTalonError(read(principal, 'keys/eth'), 'forbidden');
    expect(error.message).toContain('crypto proxy');
    expect(error.message).not.toContain('eth-private-key-value');
    await expectTalonError(read(principal, 'keys/ssh'), 'forbidden');
    expect((await read(principal, 'keys/openai')).value).toBe('openai-key-value');
    const listed = t.engine.secrets
      .list(principal, vaultId, t.call(), { prefix: 'keys/' })
      .secrets.map((s) => s.path);
    expect(listed).toEqual(['keys/openai']);
  });

  it('intents_api_enabled is the same switch', async () => {
    const { id, principal } = await newAgent({ intents_api_enabled: true });
    grant(id, { secret_path_pattern: 'keys/*', permissions: ['read'] });
    expect(principal.cryptoProxyEnabled).toBe(true);
    await expectTalonError(read(principal, 'keys/eth'), 'forbidden');
  });

  it('cannot read an older private_key version after the secret changed type', async () => {
    const path = 'mixed/key';
    await t.engine.secrets.put(
      t.owner,
      vaultId,
      path,
      { type: 'private_key', value: 'old-private-key' },
      t.call(),
    );
    const { id, principal } = await newAgent({ crypto_proxy_enabled: true });
    grant(id, { secret_path_pattern: 'mixed/*', permissions: ['read', 'write'] });
    await expectTalonError(read(principal, path), 'forbidden');
    // The agent writes a note on top: the current type is now note...
    await t.engine.secrets.put(principal, vaultId, path, { type: 'note', value: 'harmless' }, t.call());
    expect((await read(principal, path)).value).toBe('harmless');
    // ...but version 1 is still a private key, and must stay out of its reach.
    const error = await expectTalonError(
      t.engine.secrets.get(principal, vaultId, path, t.call(), 1),
      'forbidden',
    );
    expect(error.message).not.toContain('old-private-key');
    await expectTalonError(t.engine.secrets.rollback(principal, vaultId, path, 1, t.call()), 'forbidden');
    expect((await read(t.owner, path)).value).toBe('harmless');
  });
});

describe('revocation', () => {
  it('deleting a policy takes effect on the next request, even with an already-issued JWT', async () => {
    const { id, apiKey } = await newAgent();
    const policy = grant(id, { secret_path_pattern: 'api/**', permissions: ['read'] });
    grant(id, { secret_path_pattern: 'db/**', permissions: ['read'] });
    const token = await t.engine.auth.exchangeAgentToken({ api_key: apiKey, agent_id: id }, t.call());
    const before = await t.engine.auth.authenticate(token.access_token, t.call());
    expect((await read(before, 'api/x/y')).value).toBe('api-x-y-value');

    t.engine.policies.delete(t.owner, vaultId, policy.id, t.call());
    const after = await t.engine.auth.authenticate(token.access_token, t.call());
    await expectTalonError(read(after, 'api/x/y'), 'forbidden');
    // The principal object a transport might still hold is re-checked too.
    await expectTalonError(read(before, 'api/x/y'), 'forbidden');
    expect((await read(after, 'db/x')).value).toBe('db-x-value');
  });

  it('token scopes are a ceiling fixed at issue time; the API key sees new policies at once', async () => {
    const { id, apiKey } = await newAgent();
    grant(id, { secret_path_pattern: 'api/**', permissions: ['read'] });
    const token = await t.engine.auth.exchangeAgentToken({ api_key: apiKey }, t.call());
    grant(id, { secret_path_pattern: 'db/**', permissions: ['read'] });
    const viaToken = await t.engine.auth.authenticate(token.access_token, t.call());
    expect(viaToken.type === 'agent' && viaToken.tokenScopes).toEqual(['api/**']);
    await expectTalonError(read(viaToken, 'db/x'), 'forbidden');
    const viaKey = await t.engine.auth.authenticate(apiKey, t.call());
    expect((await read(viaKey, 'db/x')).value).toBe('db-x-value');
  });

  it('deactivating an agent makes its token and its key unauthenticated; reactivating restores them', async () => {
    const { id, apiKey } = await newAgent();
    grant(id, { secret_path_pattern: 'api/**', permissions: ['read'] });
    const token = await t.engine.auth.exchangeAgentToken({ api_key: apiKey, agent_id: id }, t.call());
    expect(t.engine.agents.update(t.owner, id, { is_active: false }, t.call()).is_active).toBe(false);
    const byToken = await expectTalonError(
      t.engine.auth.authenticate(token.access_token, t.call()),
      'unauthenticated',
    );
    expect(byToken.message).toContain('deactivated');
    await expectTalonError(t.engine.auth.authenticate(apiKey, t.call()), 'unauthenticated');
    await expectTalonError(
      t.engine.auth.exchangeAgentToken({ api_key: apiKey, agent_id: id }, t.call()),
      'unauthenticated',
    );
    t.engine.agents.update(t.owner, id, { is_active: true }, t.call());
    const again = await t.engine.auth.authenticate(token.access_token, t.call());
    expect((await read(again, 'api/z')).value).toBe('api-z-value');
  });

  it('deleting an agent removes its keys and policies', async () => {
    const { id, apiKey } = await newAgent();
    grant(id, { secret_path_pattern: 'api/**', permissions: ['read'] });
    const token = await t.engine.auth.exchangeAgentToken({ api_key: apiKey }, t.call());
    t.engine.agents.delete(t.owner, id, t.call());
    await expectTalonError(t.engine.auth.authenticate(token.access_token, t.call()), 'unauthenticated');
    await expectTalonError(t.engine.auth.authenticate(apiKey, t.call()), 'unauthenticated');
    expect(t.store.policies.listForPrincipalAllVaults('agent', id)).toEqual([]);
  });
});

describe('administration', () => {
  it('only the vault owner or the human owner may create policies; an agent is forbidden', async () => {
    const { id, principal } = await newAgent();
    grant(id, { secret_path_pattern: 'api/**', permissions: ['read'] });
    const before = t.store.policies.listForVault(vaultId).length;
    const error = await expectTalonError(
      () =>
        t.engine.policies.create(
          principal,
          vaultId,
          {
            principal_type: 'agent',
            principal_id: id,
            secret_path_pattern: '**',
            permissions: ['read', 'write', 'delete'],
          },
          t.call(),
        ),
      'forbidden',
    );
    expect(error.status).toBe(403);
    expect(t.store.policies.listForVault(vaultId)).toHaveLength(before);
    await expectTalonError(read(principal, 'db/x'), 'forbidden');
    await expectTalonError(() => t.engine.policies.list(principal, vaultId), 'forbidden');
    // A vault no policy opens to it is forbidden too.
    await expectTalonError(
      () =>
        t.engine.policies.create(
          principal,
          otherVaultId,
          { principal_type: 'agent', principal_id: id, secret_path_pattern: '**', permissions: ['read'] },
          t.call(),
        ),
      'forbidden',
    );
  });

  it('an agent may run its own vault, and only its own', async () => {
    const { id, principal } = await newAgent();
    const own = await t.engine.vaults.create(principal, { name: 'agent-vault' }, t.call());
    expect(own).toMatchObject({ created_by: id, created_by_type: 'agent' });
    await t.engine.secrets.put(principal, own.id, 'mine', { value: 'agent-owned' }, t.call());
    expect((await t.engine.secrets.get(principal, own.id, 'mine', t.call())).value).toBe('agent-owned');
    expect(t.engine.vaults.list(principal).map((v) => v.id)).toEqual([own.id]);
    // The human owner administers every vault.
    expect((await t.engine.secrets.get(t.owner, own.id, 'mine', t.call())).value).toBe('agent-owned');
  });

  it('only a human manages agents; an agent may read only itself', async () => {
    const { principal } = await newAgent();
    const other = await newAgent();
    expect(t.engine.agents.get(principal, principal.id).id).toBe(principal.id);
    await expectTalonError(() => t.engine.agents.get(principal, other.id), 'forbidden');
    await expectTalonError(
      () => t.engine.agents.create(principal, { name: 'spawned' }, t.call()),
      'forbidden',
    );
    await expectTalonError(() => t.engine.agents.list(principal), 'forbidden');
    await expectTalonError(
      () => t.engine.agents.update(principal, principal.id, { is_active: true }, t.call()),
      'forbidden',
    );
  });

  it('the policy simulator explains allowed and denied decisions, and only for an admin', async () => {
    const { id, principal } = await newAgent();
    const allow = grant(id, { secret_path_pattern: 'api/**', permissions: ['read'] });
    const allowed = t.engine.policies.simulate(t.owner, vaultId, principal, 'api/x/y', 'read', t.call());
    expect(allowed).toMatchObject({ allowed: true, requireApproval: false, policyId: allow.id });
    expect(allowed.reason).toContain(allow.id);
    const denied = t.engine.policies.simulate(t.owner, vaultId, principal, 'db/x', 'read', t.call());
    expect(denied).toMatchObject({ allowed: false, policyId: null });
    expect(denied.reason).toContain('no policy grants');
    expect(denied.reason).toContain('db/x');
    const writing = t.engine.policies.simulate(t.owner, vaultId, principal, 'api/x/y', 'write', t.call());
    expect(writing.allowed).toBe(false);
    await expectTalonError(
      () => t.engine.policies.simulate(principal, vaultId, principal, 'api/x/y', 'read', t.call()),
      'forbidden',
    );
    await expectTalonError(
      () => t.engine.policies.simulate(t.owner, vaultId, principal, 'api/x/y', 'admin', t.call()),
      'invalid_input',
    );
  });
});
