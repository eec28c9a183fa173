import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../main/engine/engine.js';
import type { Principal } from '../../main/engine/principal.js';
import { openSqliteStore } from '../../main/store/sqlite-store.js';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

/** Shares end to end in the engine: every kind, its refusals, agent shares and the approval they wait for. */

let t: TestEngine;
let vaultId: string;
let secretId: string;
let agent: Principal;
let otherAgent: Principal;
let member: Principal;
const inADay = () => new Date(t.clock.now.getTime() + 86_400_000).toISOString();

beforeAll(async () => {
  t = await createTestEngine();
  const { engine, owner } = t;
  vaultId = (await engine.vaults.create(owner, { name: 'share-vault' }, t.call())).id;
  secretId = (
    await engine.secrets.put(owner, vaultId, 'app/token', { value: 'v1-value', type: 'api_key' }, t.call())
  ).id;
  const created = engine.agents.create(owner, { name: 'sharer' }, t.call());
  const other = engine.agents.create(owner, { name: 'receiver' }, t.call());
  engine.policies.create(
    owner,
    vaultId,
    {
      secret_path_pattern: 'app/**',
      principal_type: 'agent',
      principal_id: created.agent.id,
      permissions: ['read'],
    },
    t.call(),
  );
  agent = await engine.auth.authenticate(created.api_key, t.call());
  otherAgent = await engine.auth.authenticate(other.api_key, t.call());
  t.store.users.insert({
    id: '01900000-0000-7000-8000-000000000001',
    email: 'member@talon.test',
    displayName: 'Member',
    role: 'member',
    passwordHash: null,
    totpJson: null,
    isActive: true,
    createdAt: t.clock.now.toISOString(),
  });
  member = { type: 'user', id: '01900000-0000-7000-8000-000000000001', role: 'member' };
});

afterAll(async () => {
  await t?.cleanup();
});

describe('link shares', () => {
  it('deliver the version current at creation, count accesses and end at their limit (410)', async () => {
    const share = await t.engine.shares.create(
      t.owner,
      secretId,
      { recipient_type: 'anyone_with_link', expires_at: inADay(), max_access_count: 2 },
      t.call(),
    );
    expect(share).toMatchObject({ status: 'active', version: 1, max_access_count: 2, approval_id: null });
    await t.engine.secrets.put(t.owner, vaultId, 'app/token', { value: 'v2-value' }, t.call());
    const first = await t.engine.shares.access(null, share.id, {}, t.call());
    expect(first).toMatchObject({ value: 'v1-value', version: 1, access_count: 1, max_access_count: 2 });
    await t.engine.shares.access(null, share.id, {}, t.call());
    await expectTalonError(t.engine.shares.access(null, share.id, {}, t.call()), 'gone');
  });

  it('with version "latest" follow new versions', async () => {
    const share = await t.engine.shares.create(
      t.owner,
      secretId,
      { recipient_type: 'anyone_with_link', expires_at: inADay(), max_access_count: 0, version: 'latest' },
      t.call(),
    );
    expect((await t.engine.shares.access(null, share.id, {}, t.call())).value).toBe('v2-value');
  });

  it('expire (410), and a revoked or unknown share is 404', async () => {
    const share = await t.engine.shares.create(
      t.owner,
      secretId,
      {
        recipient_type: 'anyone_with_link',
        expires_at: new Date(t.clock.now.getTime() + 60_000).toISOString(),
      },
      t.call(),
    );
    t.clock.advance(61_000);
    await expectTalonError(t.engine.shares.access(null, share.id, {}, t.call()), 'gone');
    const other = await t.engine.shares.create(
      t.owner,
      secretId,
      { recipient_type: 'anyone_with_link', expires_at: inADay() },
      t.call(),
    );
    t.engine.shares.revoke(t.owner, other.id, t.call());
    await expectTalonError(t.engine.shares.access(null, other.id, {}, t.call()), 'not_found');
    await expectTalonError(
      t.engine.shares.access(null, '01900000-0000-7000-8000-00000000dead', {}, t.call()),
      'not_found',
    );
  });

  it('check the passphrase and the IP allowlist', async () => {
    const share = await t.engine.shares.create(
      t.owner,
      secretId,
      {
        recipient_type: 'anyone_with_link',
        expires_at: inADay(),
        passphrase: 'correct horse battery',
        ip_allowlist: ['10.0.0.0/8'],
      },
      t.call(),
    );
    const inside = t.call({ ip: '10.1.2.3' });
    await expectTalonError(t.engine.shares.access(null, share.id, {}, inside), 'forbidden');
    await expectTalonError(
      t.engine.shares.access(null, share.id, { passphrase: 'wrong one!' }, inside),
      'forbidden',
    );
    await expectTalonError(
      t.engine.shares.access(
        null,
        share.id,
        { passphrase: 'correct horse battery' },
        t.call({ ip: '192.168.1.1' }),
      ),
      'forbidden',
    );
    const opened = await t.engine.shares.access(
      null,
      share.id,
      { passphrase: 'correct horse battery' },
      inside,
    );
    expect(opened.value).toBe('v2-value');
    const stored = t.store.shares.get(share.id)!;
    expect(stored.passphraseHash).toMatch(/^scrypt\$/u);
    expect(stored.passphraseHash).not.toContain('correct horse');
  });
});

describe('targeted shares', () => {
  it('must be accepted by their recipient before access; others are refused', async () => {
    const share = await t.engine.shares.create(
      t.owner,
      secretId,
      { recipient_type: 'user', recipient_id: member.id, expires_at: inADay() },
      t.call(),
    );
    expect(share.status).toBe('awaiting_acceptance');
    await expectTalonError(t.engine.shares.access(null, share.id, {}, t.call()), 'unauthenticated');
    await expectTalonError(t.engine.shares.access(member, share.id, {}, t.call()), 'forbidden');
    await expectTalonError(t.engine.shares.access(otherAgent, share.id, {}, t.call()), 'forbidden');
    expect(t.engine.shares.listInbound(member, t.call()).map((s) => s.id)).toContain(share.id);
    t.engine.shares.accept(member, share.id, t.call());
    await expectTalonError(() => t.engine.shares.accept(member, share.id, t.call()), 'conflict');
    expect((await t.engine.shares.access(member, share.id, {}, t.call())).value).toBe('v2-value');
  });

  it('can be declined, after which they are gone for good', async () => {
    const share = await t.engine.shares.create(
      t.owner,
      secretId,
      { recipient_type: 'agent', recipient_id: otherAgent.id, expires_at: inADay() },
      t.call(),
    );
    t.engine.shares.decline(otherAgent, share.id, t.call());
    await expectTalonError(t.engine.shares.access(otherAgent, share.id, {}, t.call()), 'not_found');
  });

  it('by email, made by a person, open with the link alone (Talon sends no email)', async () => {
    const share = await t.engine.shares.create(
      t.owner,
      secretId,
      { recipient_type: 'external_email', email: 'Friend@Example.org', expires_at: inADay() },
      t.call(),
    );
    expect(share).toMatchObject({ status: 'active', recipient_email: 'friend@example.org' });
    expect((await t.engine.shares.access(null, share.id, {}, t.call())).value).toBe('v2-value');
  });

  it('refuse external_email shares by agents (403) and creator shares by people (400)', async () => {
    await expectTalonError(
      t.engine.shares.create(
        agent,
        secretId,
        { recipient_type: 'external_email', email: 'x@y.io', expires_at: inADay() },
        t.call(),
      ),
      'forbidden',
    );
    await expectTalonError(
      t.engine.shares.create(
        t.owner,
        secretId,
        { recipient_type: 'creator', expires_at: inADay() },
        t.call(),
      ),
      'invalid_input',
    );
    await expectTalonError(
      t.engine.shares.create(t.owner, secretId, { recipient_type: 'anyone_with_link' }, t.call()),
      'invalid_input',
    );
  });

  it('only who may read a secret may share it', async () => {
    await expectTalonError(
      t.engine.shares.create(
        otherAgent,
        secretId,
        { recipient_type: 'creator', expires_at: inADay() },
        t.call(),
      ),
      'forbidden',
    );
  });
});

describe("an agent's share", () => {
  it('waits for approval, then is accepted and accessed by the creator', async () => {
    const share = await t.engine.shares.create(
      agent,
      secretId,
      { recipient_type: 'creator', expires_at: inADay() },
      t.call(),
    );
    expect(share).toMatchObject({
      status: 'pending_approval',
      approval_status: 'pending',
      recipient_id: t.owner.id,
    });
    await expectTalonError(() => t.engine.shares.accept(t.owner, share.id, t.call()), 'forbidden');
    const approval = t.engine.approvals.get(t.owner, share.approval_id!);
    expect(approval).toMatchObject({ action: 'secret.share', status: 'pending', agent_id: agent.id });
    expect(approval.summary).toContain("Agent 'sharer' wants to share 'app/token'");
    await expectTalonError(
      () => t.engine.approvals.decide(agent, approval.id, { decision: 'approve' }, t.call()),
      'forbidden',
    );
    t.engine.approvals.decide(t.owner, approval.id, { decision: 'approve', reason: 'fine' }, t.call());
    await expectTalonError(
      () => t.engine.approvals.decide(t.owner, approval.id, { decision: 'reject' }, t.call()),
      'conflict',
    );
    t.engine.shares.accept(t.owner, share.id, t.call());
    expect((await t.engine.shares.access(t.owner, share.id, {}, t.call())).value).toBe('v2-value');
  });

  it("is not a way around require_approval: a person's share of a gated secret waits too", async () => {
    const policy = t.engine.policies.create(
      t.owner,
      vaultId,
      {
        secret_path_pattern: 'app/**',
        principal_type: 'user',
        principal_id: member.id,
        permissions: ['read'],
        require_approval: true,
      },
      t.call(),
    );
    try {
      const share = await t.engine.shares.create(
        member,
        secretId,
        { recipient_type: 'anyone_with_link', expires_at: inADay() },
        t.call(),
      );
      expect(share).toMatchObject({ status: 'pending_approval', approval_status: 'pending' });
      await expectTalonError(t.engine.shares.access(null, share.id, {}, t.call()), 'forbidden');
      expect(t.engine.approvals.get(t.owner, share.approval_id!).summary).toMatch(
        /^User 'Member' wants to share/u,
      );
      await expectTalonError(
        () => t.engine.approvals.decide(member, share.approval_id!, { decision: 'approve' }, t.call()),
        'forbidden',
      );
    } finally {
      t.engine.policies.delete(t.owner, vaultId, policy.id, t.call());
    }
  });

  it('rejected, can never be accepted or accessed', async () => {
    const share = await t.engine.shares.create(
      agent,
      secretId,
      { recipient_type: 'creator', expires_at: inADay() },
      t.call(),
    );
    t.engine.approvals.decide(t.owner, share.approval_id!, { decision: 'reject', reason: 'no' }, t.call());
    await expectTalonError(() => t.engine.shares.accept(t.owner, share.id, t.call()), 'forbidden');
    await expectTalonError(t.engine.shares.access(t.owner, share.id, {}, t.call()), 'forbidden');
    expect(t.engine.shares.listOutbound(agent, t.call()).find((s) => s.id === share.id)?.status).toBe(
      'rejected',
    );
  });
});

describe('the rate limit', () => {
  it('allows 10 shares a minute per owner, answers 429 with retry_after, and holds across a restart', async () => {
    t.clock.advance(120_000);
    const body = () => ({ recipient_type: 'anyone_with_link', expires_at: inADay() });
    for (let i = 0; i < 10; i += 1) await t.engine.shares.create(t.owner, secretId, body(), t.call());
    const limited = await expectTalonError(
      t.engine.shares.create(t.owner, secretId, body(), t.call()),
      'rate_limited',
    );
    expect(limited.details.retry_after).toBeGreaterThan(0);

    // A second Talon on the same database file (as after a restart) counts the same shares.
    const store = openSqliteStore(t.databaseFile);
    try {
      const restarted = new Engine(store, t.keyStore, { now: () => t.clock.now });
      await restarted.unlock(t.pin, t.call());
      const owner = await restarted.auth.authenticate(t.ownerApiKey, t.call());
      await expectTalonError(restarted.shares.create(owner, secretId, body(), t.call()), 'rate_limited');
      t.clock.advance(61_000);
      await expect(restarted.shares.create(owner, secretId, body(), t.call())).resolves.toMatchObject({
        status: 'active',
      });
      restarted.approvals.stop();
    } finally {
      store.close();
    }
  });

  it('audits every outcome', () => {
    const actions = t.engine
      .queryAudit(t.owner, { limit: 1000 })
      .events.map((e) => `${e.action}:${e.outcome}`);
    for (const expected of [
      'share.create:success',
      'share.create:denied',
      'share.access:success',
      'share.access:denied',
      'share.accept:success',
      'share.decline:success',
      'share.revoke:success',
      'approval.request:success',
      'approval.decide:success',
      'approval.decide:denied',
    ]) {
      expect(actions).toContain(expected);
    }
  });
});
