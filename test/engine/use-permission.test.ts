import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentPrincipal } from '../../main/engine/principal.js';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

let t: TestEngine;
let vaultId: string;

beforeAll(async () => {
  t = await createTestEngine();
  vaultId = (await t.engine.vaults.create(t.owner, { name: 'work' }, t.call())).id;
  const seed: [string, string, string][] = [
    ['api-keys/stripe', 'api_key', 'sk_live_stripe_value'],
    ['api-keys/github', 'api_key', 'ghp_github_value'],
    ['config/prod', 'env_bundle', 'DB_URL=postgres://u:p@h/db\nTOKEN=tok_prod_value\n'],
    ['other/db', 'password', 'db-password-value'],
  ];
  for (const [path, type, value] of seed) {
    await t.engine.secrets.put(t.owner, vaultId, path, { type, value }, t.call());
  }
});

afterAll(async () => {
  await t?.cleanup();
});

let count = 0;
async function agentWith(...policies: Record<string, unknown>[]): Promise<AgentPrincipal> {
  count += 1;
  const { agent, api_key } = t.engine.agents.create(t.owner, { name: `use-agent-${count}` }, t.call());
  for (const policy of policies) {
    t.engine.policies.create(
      t.owner,
      vaultId,
      { principal_type: 'agent', principal_id: agent.id, ...policy },
      t.call(),
    );
  }
  return (await t.engine.auth.authenticate(api_key, t.call())) as AgentPrincipal;
}

describe('the use permission', () => {
  it('lets an agent have a value injected but refuses get_secret, saying it is use-only', async () => {
    const agent = await agentWith({ secret_path_pattern: 'api-keys/**', permissions: ['use'] });
    const refused = await expectTalonError(
      t.engine.secrets.get(agent, vaultId, 'api-keys/stripe', t.call()),
      'forbidden',
    );
    expect(refused.message).toMatch(/use-only/u);
    expect(refused.message).not.toContain('sk_live_stripe_value');

    const used = await t.engine.use.resolve(agent, vaultId, { paths: ['api-keys/stripe'] }, t.call());
    expect(used.secrets).toEqual([
      { path: 'api-keys/stripe', type: 'api_key', version: 1, value: 'sk_live_stripe_value' },
    ]);
    const audit = t.engine.queryAudit(t.owner, { actorId: agent.id, action: 'secret.use' });
    expect(audit.events[0]).toMatchObject({ outcome: 'success', path: 'api-keys/stripe' });
    expect(JSON.stringify(audit.events)).not.toContain('sk_live_stripe_value');
  });

  it('is implied by read, and the owner may use everything', async () => {
    const reader = await agentWith({ secret_path_pattern: 'other/*', permissions: ['read'] });
    const used = await t.engine.use.resolve(reader, vaultId, { paths: ['other/db'] }, t.call());
    expect(used.secrets[0]!.value).toBe('db-password-value');
    const owned = await t.engine.use.resolve(t.owner, vaultId, { prefixes: [''] }, t.call());
    expect(owned.secrets.map((s) => s.path)).toEqual([
      'api-keys/github',
      'api-keys/stripe',
      'config/prod',
      'other/db',
    ]);
  });

  it('a deny of use denies read too; a deny of read leaves a use-only path', async () => {
    const denied = await agentWith(
      { secret_path_pattern: '**', permissions: ['read'] },
      { secret_path_pattern: 'api-keys/github', permissions: ['use'], effect: 'deny', priority: 5 },
    );
    await expectTalonError(t.engine.secrets.get(denied, vaultId, 'api-keys/github', t.call()), 'forbidden');
    await expectTalonError(
      t.engine.use.resolve(denied, vaultId, { paths: ['api-keys/github'] }, t.call()),
      'forbidden',
    );
    const useOnly = await agentWith(
      { secret_path_pattern: '**', permissions: ['read'] },
      { secret_path_pattern: 'api-keys/*', permissions: ['read'], effect: 'deny', priority: 5 },
    );
    const refused = await expectTalonError(
      t.engine.secrets.get(useOnly, vaultId, 'api-keys/github', t.call()),
      'forbidden',
    );
    expect(refused.message).toMatch(/use-only/u);
    const used = await t.engine.use.resolve(useOnly, vaultId, { paths: ['api-keys/github'] }, t.call());
    expect(used.secrets[0]!.value).toBe('ghp_github_value');
  });

  it('under a prefix, returns what the caller may use and names the rest, without values', async () => {
    const agent = await agentWith({ secret_path_pattern: 'api-keys/stripe', permissions: ['use'] });
    const used = await t.engine.use.resolve(agent, vaultId, { prefixes: ['api-keys/'] }, t.call());
    expect(used.secrets.map((s) => s.path)).toEqual(['api-keys/stripe']);
    expect(used.skipped).toEqual([{ path: 'api-keys/github', reason: 'no policy lets you use it' }]);
  });

  it('refuses a named path the caller may not use, and audits the refusal', async () => {
    const agent = await agentWith({ secret_path_pattern: 'api-keys/stripe', permissions: ['use'] });
    await expectTalonError(
      t.engine.use.resolve(agent, vaultId, { paths: ['other/db'] }, t.call()),
      'forbidden',
    );
    const audit = t.engine.queryAudit(t.owner, {
      actorId: agent.id,
      action: 'secret.use',
      outcome: 'denied',
    });
    expect(audit.events[0]).toMatchObject({ path: 'other/db' });
  });

  it('a policy limited to allowed_hosts grants no use for talon run', async () => {
    const agent = await agentWith({
      secret_path_pattern: 'api-keys/stripe',
      permissions: ['use'],
      conditions: { allowed_hosts: ['api.stripe.com'] },
    });
    const refused = await expectTalonError(
      t.engine.use.resolve(agent, vaultId, { paths: ['api-keys/stripe'] }, t.call()),
      'forbidden',
    );
    expect(refused.message).toMatch(/allowed_hosts/u);
  });

  it('counts each use against max_access_count', async () => {
    await t.engine.secrets.put(
      t.owner,
      vaultId,
      'once/token',
      { type: 'api_key', value: 'one-time-value', max_access_count: 1 },
      t.call(),
    );
    await t.engine.use.resolve(t.owner, vaultId, { paths: ['once/token'] }, t.call());
    await expectTalonError(
      t.engine.use.resolve(t.owner, vaultId, { paths: ['once/token'] }, t.call()),
      'gone',
    );
  });

  it('the policy simulator answers for use', async () => {
    const agent = await agentWith({ secret_path_pattern: 'other/*', permissions: ['read'] });
    const decision = t.engine.policies.simulate(t.owner, vaultId, agent, 'other/db', 'use', t.call());
    expect(decision.allowed).toBe(true);
  });
});

describe('listing', () => {
  it('shows a use-only agent the paths it may use, never values', async () => {
    const agent = await agentWith({ secret_path_pattern: 'api-keys/stripe', permissions: ['use'] });
    const page = t.engine.secrets.list(agent, vaultId, t.call());
    expect(page.secrets.map((s) => s.path)).toEqual(['api-keys/stripe']);
    expect(JSON.stringify(page)).not.toContain('sk_live_stripe_value');
  });
});

describe('a use that needs approval', () => {
  it('waits for a human, then goes through once with the approval', async () => {
    const agent = await agentWith({
      secret_path_pattern: 'api-keys/github',
      permissions: ['use'],
      require_approval: true,
    });
    const gated = await expectTalonError(
      t.engine.use.resolve(agent, vaultId, { paths: ['api-keys/github'] }, t.call()),
      'approval_required',
    );
    const approvalId = gated.details.approval_id as string;
    t.engine.approvals.decide(t.owner, approvalId, { decision: 'approve' }, t.call());
    const used = await t.engine.use.resolve(
      agent,
      vaultId,
      { paths: ['api-keys/github'] },
      t.call({ approvalId }),
    );
    expect(used.secrets[0]!.value).toBe('ghp_github_value');
    await expectTalonError(
      t.engine.use.resolve(agent, vaultId, { paths: ['api-keys/github'] }, t.call({ approvalId })),
      'forbidden',
    );
  });
});
