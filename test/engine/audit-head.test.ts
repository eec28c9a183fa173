import { afterAll, beforeAll, expect, it } from 'vitest';
import { type TestEngine, createTestEngine, withRawDatabase } from '../fixtures/test-engine.js';

let t: TestEngine;

// One token per test file (SoftHSM2 reads its configuration once per process): the tests run
// in order, each starting and ending locked.
beforeAll(async () => {
  t = await createTestEngine();
  const vault = await t.engine.vaults.create(t.owner, { name: 'sealed' }, t.call());
  for (let i = 0; i < 5; i += 1) {
    await t.engine.secrets.put(t.owner, vault.id, `k/${i}`, { value: `head-value-${i}` }, t.call());
  }
  await t.engine.lock(t.call());
});

afterAll(async () => {
  await t?.cleanup();
});

const lastSeq = () =>
  withRawDatabase(
    t.databaseFile,
    (db) => db.prepare('SELECT max(seq) FROM audit_events').pluck().get() as number,
  );

it('verifies after a lock and an unlock: the sealed head is still in the chain', async () => {
  await t.engine.unlock(t.pin, t.call());
  expect(t.engine.verifyAudit(t.owner)).toMatchObject({ ok: true });
  await t.engine.lock(t.call());
});

it('notices a forged seal', async () => {
  withRawDatabase(t.databaseFile, (db) =>
    db.prepare(`UPDATE meta SET value = json_set(value, '$.seq', 2) WHERE key = 'audit.sealed_head'`).run(),
  );
  await t.engine.unlock(t.pin, t.call());
  expect(t.engine.verifyAudit(t.owner)).toMatchObject({
    ok: false,
    reason: 'the head sealed at the last lock was changed',
  });
  await t.engine.lock(t.call()); // seals the real head again
});

it('notices entries cut from the end of the log while Talon was locked', async () => {
  const sealedSeq = lastSeq();
  withRawDatabase(t.databaseFile, (db) =>
    db.prepare('DELETE FROM audit_events WHERE seq > ?').run(sealedSeq - 3),
  );
  await t.engine.unlock(t.pin, t.call());
  const verification = t.engine.verifyAudit(t.owner);
  expect(verification).toMatchObject({ ok: false, brokenAt: sealedSeq - 2 });
  expect(verification.ok === false && verification.reason).toContain(`entries up to ${sealedSeq}`);
});
