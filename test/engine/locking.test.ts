import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../main/engine/engine.js';
import type { Principal } from '../../main/engine/principal.js';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

let t: TestEngine;
let vaultId: string;
let agentId: string;
let agentKey: string;
let agentToken: string;
let policyId: string;

beforeAll(async () => {
  t = await createTestEngine();
  vaultId = (await t.engine.vaults.create(t.owner, { name: 'locked-up' }, t.call())).id;
  await t.engine.secrets.put(
    t.owner,
    vaultId,
    'app/key',
    { type: 'api_key', value: 'survives-the-lock' },
    t.call(),
  );
  const strict = await t.engine.vaults.create(
    t.owner,
    { name: 'strict-locked', strict_mode: true },
    t.call(),
  );
  await t.engine.secrets.put(t.owner, strict.id, 'app/key', { value: 'strict-survives' }, t.call());
  const created = t.engine.agents.create(t.owner, { name: 'locked-agent' }, t.call());
  agentId = created.agent.id;
  agentKey = created.api_key;
  policyId = t.engine.policies.create(
    t.owner,
    vaultId,
    { principal_type: 'agent', principal_id: agentId, secret_path_pattern: 'app/*', permissions: ['read'] },
    t.call(),
  ).id;
  agentToken = (await t.engine.auth.exchangeAgentToken({ api_key: agentKey, agent_id: agentId }, t.call()))
    .access_token;
});

afterAll(async () => {
  await t?.cleanup();
});

/** Every engine call a transport can make, with arguments that would succeed when unlocked. */
function everyCall(engine: Engine, owner: Principal, agent: Principal): [string, () => unknown][] {
  const call = t.call();
  return [
    ['vaults.create', () => engine.vaults.create(owner, { name: 'new' }, call)],
    ['vaults.list', () => engine.vaults.list(owner)],
    ['vaults.get', () => engine.vaults.get(owner, vaultId)],
    ['vaults.setStrictMode', () => engine.vaults.setStrictMode(owner, vaultId, true, call)],
    ['vaults.delete', () => engine.vaults.delete(owner, vaultId, call, { force: true })],
    ['secrets.put', () => engine.secrets.put(owner, vaultId, 'app/key', { value: 'v' }, call)],
    ['secrets.get', () => engine.secrets.get(owner, vaultId, 'app/key', call)],
    ['secrets.get by an agent', () => engine.secrets.get(agent, vaultId, 'app/key', call)],
    ['secrets.describe', () => engine.secrets.describe(owner, vaultId, 'app/key', call)],
    ['secrets.list', () => engine.secrets.list(owner, vaultId, call)],
    ['secrets.versions', () => engine.secrets.versions(owner, vaultId, 'app/key', call)],
    ['secrets.disableVersion', () => engine.secrets.disableVersion(owner, vaultId, 'app/key', 1, call)],
    ['secrets.rollback', () => engine.secrets.rollback(owner, vaultId, 'app/key', 1, call)],
    ['secrets.rotate', () => engine.secrets.rotate(owner, vaultId, 'app/key', {}, call)],
    ['secrets.delete', () => engine.secrets.delete(owner, vaultId, 'app/key', call)],
    ['secrets.restore', () => engine.secrets.restore(owner, vaultId, 'app/key', call)],
    ['secrets.purge', () => engine.secrets.purge(owner, vaultId, 'app/key', call)],
    [
      'policies.create',
      () =>
        engine.policies.create(
          owner,
          vaultId,
          {
            principal_type: 'agent',
            principal_id: agentId,
            secret_path_pattern: '**',
            permissions: ['read'],
          },
          call,
        ),
    ],
    ['policies.list', () => engine.policies.list(owner, vaultId)],
    ['policies.update', () => engine.policies.update(owner, vaultId, policyId, { priority: 3 }, call)],
    ['policies.delete', () => engine.policies.delete(owner, vaultId, policyId, call)],
    ['policies.simulate', () => engine.policies.simulate(owner, vaultId, agent, 'app/key', 'read', call)],
    ['agents.create', () => engine.agents.create(owner, { name: 'x' }, call)],
    ['agents.list', () => engine.agents.list(owner)],
    ['agents.get', () => engine.agents.get(owner, agentId)],
    ['agents.update', () => engine.agents.update(owner, agentId, { name: 'renamed' }, call)],
    ['agents.rotateKey', () => engine.agents.rotateKey(owner, agentId, call)],
    ['agents.delete', () => engine.agents.delete(owner, agentId, call)],
    ['auth.authenticate with a key', () => engine.auth.authenticate(agentKey, call)],
    ['auth.authenticate with a JWT', () => engine.auth.authenticate(agentToken, call)],
    [
      'auth.exchangeAgentToken',
      () => engine.auth.exchangeAgentToken({ api_key: agentKey, agent_id: agentId }, call),
    ],
    ['auth.exchangeApiKeyToken', () => engine.auth.exchangeApiKeyToken({ api_key: t.ownerApiKey }, call)],
    ['auth.createPersonalKey', () => engine.auth.createPersonalKey(owner, 'second', call)],
    ['engine.setUpOwner', () => engine.setUpOwner({ email: 'second@talon.test' }, call)],
    ['engine.verifyAudit', () => engine.verifyAudit(owner)],
    ['engine.queryAudit', () => engine.queryAudit(owner, {})],
  ];
}

describe('locking', () => {
  it('after lock every call fails with locked (423), changes nothing and logs nothing', async () => {
    const agent = await t.engine.auth.authenticate(agentKey, t.call());
    const auditRows = t.store.audit.count({});
    const vaultsBefore = t.store.vaults.list().length;
    await t.engine.lock(t.call());
    expect(t.engine.isUnlocked).toBe(false);
    expect(t.keyStore.isLoggedIn).toBe(false);
    expect(t.engine.status().unlocked).toBe(false);
    expect(t.store.audit.count({})).toBe(auditRows + 1); // the talon.lock entry itself

    for (const [name, work] of everyCall(t.engine, t.owner, agent)) {
      const error = await expectTalonError(work, 'locked').catch((failure: unknown) => {
        throw new Error(`${name}: ${(failure as Error).message}`);
      });
      expect(error.status, name).toBe(423);
      expect(error.message, name).toMatch(/unlock/i);
    }
    expect(t.store.audit.count({})).toBe(auditRows + 1);
    expect(t.store.vaults.list()).toHaveLength(vaultsBefore);
    expect(t.store.agents.get(agentId)?.name).toBe('locked-agent');
    expect(t.store.policies.get(policyId)).toBeDefined();
    expect(t.store.secrets.getSecretByPath(vaultId, 'app/key')?.currentVersion).toBe(1);
  });

  it('a wrong PIN is unauthenticated with a clear message, and Talon stays locked', async () => {
    if (t.engine.isUnlocked) await t.engine.lock(t.call());
    const error = await expectTalonError(t.engine.unlock('wrong-pin-0000', t.call()), 'unauthenticated');
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/PIN is wrong/);
    expect(error.message).not.toContain('wrong-pin-0000');
    expect(t.engine.isUnlocked).toBe(false);
    await expectTalonError(t.engine.secrets.get(t.owner, vaultId, 'app/key', t.call()), 'locked');
    await expectTalonError(t.engine.unlock('', t.call()), 'unauthenticated');
    expect(t.engine.isUnlocked).toBe(false);
  });

  it('a wrong PIN is refused even when the token session was left logged in', async () => {
    if (t.engine.isUnlocked) await t.engine.lock(t.call());
    // As after `talon init`, whose freshly created token comes back logged in.
    await t.keyStore.login(t.pin);
    expect(t.keyStore.isLoggedIn).toBe(true);
    await expectTalonError(t.engine.unlock('not-the-pin', t.call()), 'unauthenticated');
    expect(t.engine.isUnlocked).toBe(false);
    await expectTalonError(t.engine.secrets.get(t.owner, vaultId, 'app/key', t.call()), 'locked');
  });

  it('unlocking again with the right PIN finds every value, key and token intact', async () => {
    if (t.engine.isUnlocked) await t.engine.lock(t.call());
    t.clock.advance(60_000); // past the wait the three wrong PINs above earned (unlock-throttle.ts)
    await t.engine.unlock(t.pin, t.call());
    expect(t.engine.isUnlocked).toBe(true);
    expect((await t.engine.secrets.get(t.owner, vaultId, 'app/key', t.call())).value).toBe(
      'survives-the-lock',
    );
    const strict = t.engine.vaults.list(t.owner).find((v) => v.name === 'strict-locked');
    expect((await t.engine.secrets.get(t.owner, strict!.id, 'app/key', t.call())).value).toBe(
      'strict-survives',
    );
    // The subkeys derive from the token's HMAC key again: keys and JWTs issued before the lock still work.
    const byKey = await t.engine.auth.authenticate(agentKey, t.call());
    const byToken = await t.engine.auth.authenticate(agentToken, t.call());
    expect((await t.engine.secrets.get(byKey, vaultId, 'app/key', t.call())).value).toBe('survives-the-lock');
    expect(byToken).toMatchObject({ type: 'agent', id: agentId });
    expect(t.engine.verifyAudit(t.owner).ok).toBe(true);
  });

  it('a wrong PIN while unlocked is refused, and Talon stays unlocked (only a human may lock it)', async () => {
    if (!t.engine.isUnlocked) await t.engine.unlock(t.pin, t.call());
    await expectTalonError(t.engine.unlock('still-wrong', t.call()), 'unauthenticated');
    expect(t.engine.isUnlocked).toBe(true);
    await t.engine.lock(t.call());
    t.clock.advance(60_000);
    await t.engine.unlock(t.pin, t.call());
    expect((await t.engine.secrets.get(t.owner, vaultId, 'app/key', t.call())).value).toBe(
      'survives-the-lock',
    );
  });

  it('calls in flight when Talon locks fail with locked, not as damaged data, and store nothing', async () => {
    // A fresh unlock holds no vault key: the session-mode reads below wait for the token to unwrap
    // it, as the strict-mode ones wait for their DEK, so all of them are in flight at the lock.
    if (t.engine.isUnlocked) await t.engine.lock(t.call());
    await t.engine.unlock(t.pin, t.call());
    const strict = t.engine.vaults.list(t.owner).find((v) => v.name === 'strict-locked')!;
    const versionsBefore = t.store.secrets.listVersions(
      t.store.secrets.getSecretByPath(vaultId, 'app/key')!.id,
    ).length;

    const reads = [vaultId, strict.id, vaultId, strict.id].map((id) =>
      t.engine.secrets.get(t.owner, id, 'app/key', t.call()),
    );
    const writes = [vaultId, strict.id].map((id) =>
      t.engine.secrets.put(t.owner, id, 'app/key', { value: 'written-while-locking' }, t.call()),
    );
    const locking = t.engine.lock(t.call());
    const outcomes = await Promise.allSettled([...reads, ...writes]);
    await locking;

    const codes = outcomes.map((outcome) =>
      outcome.status === 'fulfilled' ? 'ok' : (outcome.reason as { code?: string }).code,
    );
    expect(codes).toEqual(['locked', 'locked', 'locked', 'locked', 'locked', 'locked']);
    await t.engine.unlock(t.pin, t.call());
    expect(
      t.store.secrets.listVersions(t.store.secrets.getSecretByPath(vaultId, 'app/key')!.id),
    ).toHaveLength(versionsBefore);
    expect((await t.engine.secrets.get(t.owner, vaultId, 'app/key', t.call())).value).toBe(
      'survives-the-lock',
    );
    expect((await t.engine.secrets.get(t.owner, strict.id, 'app/key', t.call())).value).toBe(
      'strict-survives',
    );
  });

  it('a session-mode read with its vault key held is done before a lock that follows it', async () => {
    if (!t.engine.isUnlocked) await t.engine.unlock(t.pin, t.call());
    await t.engine.secrets.get(t.owner, vaultId, 'app/key', t.call()); // holds the vault key
    const read = t.engine.secrets.get(t.owner, vaultId, 'app/key', t.call());
    await t.engine.lock(t.call());
    expect((await read).value).toBe('survives-the-lock');
    await expectTalonError(t.engine.secrets.get(t.owner, vaultId, 'app/key', t.call()), 'locked');
    await t.engine.unlock(t.pin, t.call());
  });

  it('setUpOwner runs once: a second call changes nothing', () => {
    const users = t.store.users.count();
    expect(t.engine.setUpOwner({ email: 'intruder@talon.test' }, t.call())).toBeNull();
    expect(t.store.users.count()).toBe(users);
    expect(t.store.users.findByEmail('intruder@talon.test')).toBeUndefined();
  });
});
