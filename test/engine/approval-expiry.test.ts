import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApprovalEvent } from '../../main/engine/approval-service.js';
import type { Principal } from '../../main/engine/principal.js';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

/** Pending approvals expire by a timer too, without anyone looking: subscribers hear approval.expired. */

let t: TestEngine;
let vaultId: string;
let agent: Principal;

beforeAll(async () => {
  t = await createTestEngine({ engineOptions: { approvalTtlMs: 200 } });
  vaultId = (await t.engine.vaults.create(t.owner, { name: 'short' }, t.call())).id;
  await t.engine.secrets.put(t.owner, vaultId, 'k', { value: 'v' }, t.call());
  const created = t.engine.agents.create(t.owner, { name: 'impatient' }, t.call());
  t.engine.policies.create(
    t.owner,
    vaultId,
    {
      secret_path_pattern: '**',
      principal_type: 'agent',
      principal_id: created.agent.id,
      permissions: ['read'],
      require_approval: true,
    },
    t.call(),
  );
  agent = await t.engine.auth.authenticate(created.api_key, t.call());
});

afterAll(async () => {
  await t?.cleanup();
});

it('expires a pending approval when its time comes, and announces it', async () => {
  const events: ApprovalEvent[] = [];
  const unsubscribe = t.engine.approvals.subscribe((event) => events.push(event));
  try {
    const error = await expectTalonError(
      t.engine.secrets.get(agent, vaultId, 'k', t.call()),
      'approval_required',
    );
    const id = (error.details.approval as { id: string }).id;
    t.clock.advance(201);
    for (let i = 0; i < 100 && !events.some((e) => e.type === 'approval.expired'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(events.find((e) => e.type === 'approval.expired')?.approval).toMatchObject({
      id,
      status: 'expired',
    });
    expect(t.store.approvals.get(id)?.status).toBe('expired');
  } finally {
    unsubscribe();
  }
});
