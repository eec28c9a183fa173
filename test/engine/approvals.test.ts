import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalEvent } from '../../main/engine/approval-service.js';
import type { Principal } from '../../main/engine/principal.js';
import { TalonError } from '../../main/engine/talon-error.js';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

/** The approval queue: gated reads, single use, replay, expiry on the test clock, windows, waiting. */

let t: TestEngine;
let vaultId: string;
let agent: Principal;
const events: ApprovalEvent[] = [];

beforeAll(async () => {
  t = await createTestEngine();
  const { engine, owner } = t;
  vaultId = (await engine.vaults.create(owner, { name: 'gated' }, t.call())).id;
  await engine.secrets.put(owner, vaultId, 'prod/db', { value: 'db-password-1', type: 'password' }, t.call());
  await engine.secrets.put(owner, vaultId, 'prod/db', { value: 'db-password-2' }, t.call());
  const created = engine.agents.create(owner, { name: 'deployer' }, t.call());
  engine.policies.create(
    owner,
    vaultId,
    {
      secret_path_pattern: 'prod/**',
      principal_type: 'agent',
      principal_id: created.agent.id,
      permissions: ['read'],
      require_approval: true,
    },
    t.call(),
  );
  agent = await engine.auth.authenticate(created.api_key, t.call());
  engine.approvals.subscribe((event) => events.push(event));
});

afterAll(async () => {
  await t?.cleanup();
});

/** The approval a gated read queued, from its approval_required error. */
async function gatedRead(call = t.call(), version?: number) {
  const error = await expectTalonError(
    t.engine.secrets.get(agent, vaultId, 'prod/db', call, version),
    'approval_required',
  );
  return error.details.approval as { id: string; status: string; summary: string; expires_at: string };
}

describe('a read under require_approval', () => {
  it('queues one approval per request, reused while pending, and says who asks what', async () => {
    const approval = await gatedRead(t.call({ client: 'claude-code' }));
    expect(approval.status).toBe('pending');
    expect(await gatedRead()).toMatchObject({ id: approval.id });
    const seen = t.engine.approvals.get(t.owner, approval.id);
    expect(seen).toMatchObject({
      action: 'secret.read',
      risk_tier: 'medium',
      requester: { type: 'agent', id: agent.id, name: 'deployer', client: 'claude-code' },
      details: { path: 'prod/db', vault_id: vaultId, version: null },
    });
    expect(seen.summary).toBe(
      "Agent deployer wants to read 'prod/db' (the current version) in vault 'gated'",
    );
    expect(events.filter((e) => e.type === 'approval.created' && e.approval.id === approval.id)).toHaveLength(
      1,
    );
    // Another version is another request.
    expect((await gatedRead(t.call(), 1)).id).not.toBe(approval.id);
    // Metadata needs no approval.
    expect(t.engine.secrets.describe(agent, vaultId, 'prod/db', t.call()).version).toBe(2);
  });

  it('passes once approved, with approval_id, exactly once (a replay is refused)', async () => {
    const approval = await gatedRead();
    await expectTalonError(
      t.engine.secrets.get(agent, vaultId, 'prod/db', t.call({ approvalId: approval.id })),
      'approval_required',
    );
    const decided = t.engine.approvals.decide(t.owner, approval.id, { decision: 'approve' }, t.call());
    expect(decided).toMatchObject({ status: 'approved', decided_by: t.owner.id });
    expect(events.some((e) => e.type === 'approval.decided' && e.approval.id === approval.id)).toBe(true);
    const read = await t.engine.secrets.get(agent, vaultId, 'prod/db', t.call({ approvalId: approval.id }));
    expect(read.value).toBe('db-password-2');
    const replay = await expectTalonError(
      t.engine.secrets.get(agent, vaultId, 'prod/db', t.call({ approvalId: approval.id })),
      'forbidden',
    );
    expect(replay.message).toMatch(/already used/u);
    // The approval of one request opens no other: another version with the same id is refused.
    const other = await gatedRead(t.call(), 1);
    t.engine.approvals.decide(t.owner, other.id, { decision: 'approve' }, t.call());
    await expectTalonError(
      t.engine.secrets.get(agent, vaultId, 'prod/db', t.call({ approvalId: other.id })),
      'forbidden',
    );
    // ...while the same request, resubmitted without the id, finds and uses it.
    expect((await t.engine.secrets.get(agent, vaultId, 'prod/db', t.call(), 1)).value).toBe('db-password-1');
  });

  it('stays refused when rejected', async () => {
    const approval = await gatedRead();
    t.engine.approvals.decide(t.owner, approval.id, { decision: 'reject', reason: 'not now' }, t.call());
    const refused = await expectTalonError(
      t.engine.secrets.get(agent, vaultId, 'prod/db', t.call({ approvalId: approval.id })),
      'forbidden',
    );
    expect(refused.message).toContain('not now');
  });

  it('expires after its lifetime on the test clock, and cannot be decided then', async () => {
    const approval = await gatedRead();
    t.clock.advance(15 * 60_000 + 1);
    expect(t.engine.approvals.get(t.owner, approval.id).status).toBe('expired');
    expect(events.some((e) => e.type === 'approval.expired' && e.approval.id === approval.id)).toBe(true);
    await expectTalonError(
      () => t.engine.approvals.decide(t.owner, approval.id, { decision: 'approve' }, t.call()),
      'gone',
    );
    await expectTalonError(
      t.engine.secrets.get(agent, vaultId, 'prod/db', t.call({ approvalId: approval.id })),
      'gone',
    );
    expect(t.engine.approvals.list(t.owner, { status: 'expired' }).map((a) => a.id)).toContain(approval.id);
  });

  it('may open a window instead: the agent reads the path until it ends, or until lock', async () => {
    const approval = await gatedRead();
    t.engine.approvals.decide(
      t.owner,
      approval.id,
      { decision: 'approve', grant: { minutes: 15 } },
      t.call(),
    );
    const [grant] = t.engine.approvals.listGrants(t.owner, t.call());
    expect(grant).toMatchObject({ principal_id: agent.id, path: 'prod/db', permission: 'read' });
    for (let i = 0; i < 3; i += 1) {
      expect((await t.engine.secrets.get(agent, vaultId, 'prod/db', t.call())).value).toBe('db-password-2');
    }
    t.clock.advance(16 * 60_000);
    await gatedRead();

    const again = await gatedRead();
    t.engine.approvals.decide(
      t.owner,
      again.id,
      { decision: 'approve', grant: { until_lock: true } },
      t.call(),
    );
    expect((await t.engine.secrets.get(agent, vaultId, 'prod/db', t.call())).value).toBe('db-password-2');
    const open = t.engine.approvals.listGrants(t.owner, t.call());
    expect(open).toHaveLength(1);
    t.engine.approvals.revokeGrant(t.owner, open[0]!.id, t.call());
    await gatedRead();

    const third = await gatedRead();
    t.engine.approvals.decide(
      t.owner,
      third.id,
      { decision: 'approve', grant: { until_lock: true } },
      t.call(),
    );
    await t.engine.lock(t.call());
    await t.engine.unlock(t.pin, t.call());
    expect(t.engine.approvals.listGrants(t.owner, t.call())).toEqual([]);
    await expectTalonError(() => t.engine.approvals.listGrants(agent, t.call()), 'forbidden');
  });
});

describe('waiting for a decision', () => {
  it('resolves when a human decides, with progress meanwhile; times out still pending', async () => {
    const approval = await gatedRead();
    const progress: number[] = [];
    const waiting = t.engine.approvals.waitForDecision(approval.id, {
      timeoutMs: 5000,
      progressIntervalMs: 20,
      onProgress: (elapsed) => progress.push(elapsed),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.engine.approvals.decide(t.owner, approval.id, { decision: 'approve' }, t.call());
    expect((await waiting).status).toBe('approved');
    // The same request, resubmitted, uses it.
    expect((await t.engine.secrets.get(agent, vaultId, 'prod/db', t.call())).value).toBe('db-password-2');
    expect(progress.length).toBeGreaterThan(0);

    const other = await gatedRead(t.call(), 1);
    expect((await t.engine.approvals.waitForDecision(other.id, { timeoutMs: 50 })).status).toBe('pending');
  });

  it('lets agents see only their own approvals, and never decide', async () => {
    const approval = await gatedRead();
    expect(t.engine.approvals.status(agent, approval.id)).toMatchObject({
      id: approval.id,
      status: 'pending',
    });
    expect(t.engine.approvals.list(agent).every((a) => a.requester.id === agent.id)).toBe(true);
    await expectTalonError(
      () => t.engine.approvals.decide(agent, approval.id, { decision: 'approve' }, t.call()),
      'forbidden',
    );
    const invalid = await expectTalonError(
      () => t.engine.approvals.decide(t.owner, approval.id, { decision: 'maybe' }, t.call()),
      'invalid_input',
    );
    expect(invalid).toBeInstanceOf(TalonError);
  });

  it('audits requests, decisions, refusals, uses and expiries', () => {
    const actions = t.engine
      .queryAudit(t.owner, { limit: 1000 })
      .events.map((e) => `${e.action}:${e.outcome}`);
    for (const expected of [
      'approval.request:success',
      'approval.decide:success',
      'approval.decide:denied',
      'approval.consume:success',
      'approval.consume:denied',
      'approval.expire:success',
      'approval.grant.use:success',
      'approval.grant.revoke:success',
      'approval.grants.clear:success',
      'secret.read:denied',
    ]) {
      expect(actions).toContain(expected);
    }
  });
});
