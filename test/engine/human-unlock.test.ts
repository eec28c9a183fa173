import { generateSync } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../main/engine/engine.js';
import type { UserPrincipal } from '../../main/engine/principal.js';
import {
  type TestEngine,
  createTestEngine,
  expectTalonError,
  withRawDatabase,
} from '../fixtures/test-engine.js';

/**
 * Unlock and lock as a human does them: the PIN, then the owner's TOTP code once 2FA is on; wrong
 * attempts throttled with growing waits that a restart does not reset, and audited (those made while
 * locked are chained at the next unlock); auto-lock after idle time by the engine's clock.
 */
let t: TestEngine;
const code = (secret: string, at: Date) => generateSync({ secret, epoch: Math.floor(at.getTime() / 1000) });

beforeAll(async () => {
  t = await createTestEngine();
});
afterAll(async () => {
  await t.cleanup();
});

function auditActions(): { action: string; outcome: string; details: string }[] {
  return withRawDatabase(
    t.databaseFile,
    (db) =>
      db.prepare('SELECT action, outcome, details_json AS details FROM audit_events ORDER BY seq').all() as {
        action: string;
        outcome: string;
        details: string;
      }[],
  );
}

describe('unlock and lock', () => {
  it('status says set up, unlocked, no 2FA, and nothing secret', () => {
    const status = t.engine.lifecycle.status();
    expect(status).toMatchObject({
      set_up: true,
      unlocked: true,
      mfa_enabled: false,
      auto_lock_minutes: 0,
      unlock_retry_after: 0,
      token: { label: 'talon-test', manufacturer: expect.any(String), model: expect.any(String) },
    });
    expect(JSON.stringify(status)).not.toContain('serial');
  });

  it('unlock returns an owner session that authenticates as the owner, and lock needs a human', async () => {
    await t.engine.lifecycle.lock(t.owner, t.call(), 'request');
    expect(t.engine.isUnlocked).toBe(false);
    const session = await t.engine.lifecycle.unlock({ pin: t.pin }, t.call());
    expect(session).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      user: { id: t.owner.id, role: 'owner' },
    });
    expect(await t.engine.auth.authenticate(session.access_token, t.call())).toEqual(t.owner);
    // An agent may not lock.
    const agent = await t.engine.agents.create(t.owner, { name: 'locker' }, t.call());
    const agentPrincipal = await t.engine.auth.authenticate(agent.api_key!, t.call());
    await expectTalonError(t.engine.lifecycle.lock(agentPrincipal, t.call(), 'request'), 'forbidden');
    expect(t.engine.isUnlocked).toBe(true);
  });

  it('wrong PINs while locked wait 1 s, then 2 s, after three, survive a restart, and are chained at unlock', async () => {
    await t.engine.lifecycle.lock(t.owner, t.call(), 'request');
    for (let i = 1; i <= 3; i += 1) {
      const error = await expectTalonError(
        t.engine.lifecycle.unlock({ pin: `wrong-pin-${i}` }, t.call()),
        'unauthenticated',
      );
      expect(error.message).toMatch(/PIN is wrong/u);
      expect(error.message).not.toContain(`wrong-pin-${i}`);
    }
    expect(t.store.throttle.get('talon.unlock')?.failures).toBe(3);
    // Even the right PIN waits now.
    const throttled = await expectTalonError(
      t.engine.lifecycle.unlock({ pin: t.pin }, t.call()),
      'rate_limited',
    );
    expect(throttled.details).toMatchObject({ retry_after: 1 });
    expect(t.engine.lifecycle.status().unlock_retry_after).toBe(1);

    t.clock.advance(1000);
    await expectTalonError(t.engine.lifecycle.unlock({ pin: 'wrong-pin-4' }, t.call()), 'unauthenticated');
    // A restart (a new engine on the same store and token) still makes the caller wait 2 s.
    const restarted = new Engine(t.store, t.keyStore, { now: () => t.clock.now });
    const wait = await expectTalonError(restarted.lifecycle.unlock({ pin: t.pin }, t.call()), 'rate_limited');
    expect(wait.details).toMatchObject({ retry_after: 2 });

    t.clock.advance(2000);
    await t.engine.lifecycle.unlock({ pin: t.pin }, t.call());
    expect(t.store.throttle.get('talon.unlock')).toBeUndefined();
    const unlocks = auditActions().filter((entry) => entry.action === 'talon.unlock');
    const denied = unlocks.filter((entry) => entry.outcome === 'denied');
    expect(denied.length).toBeGreaterThanOrEqual(6); // 4 wrong PINs and 2 throttled tries
    expect(denied.every((entry) => JSON.parse(entry.details).recorded_while_locked === true)).toBe(true);
    expect(JSON.stringify(unlocks)).not.toMatch(/wrong-pin|test-pin/u);
    expect(t.engine.verifyAudit(t.owner)).toMatchObject({ ok: true });
  });

  it('a wrong PIN while unlocked is refused, counted and audited, and Talon stays unlocked', async () => {
    await expectTalonError(
      t.engine.lifecycle.unlock({ pin: 'not-the-pin-at-all' }, t.call()),
      'unauthenticated',
    );
    expect(t.engine.isUnlocked).toBe(true);
    expect(t.store.throttle.get('talon.unlock')?.failures).toBe(1);
    const session = await t.engine.lifecycle.unlock({ pin: t.pin }, t.call());
    expect(session.user.id).toBe(t.owner.id);
    expect(auditActions().at(-1)).toMatchObject({ action: 'talon.unlock', outcome: 'success' });
  });
});

describe('two-factor at unlock', () => {
  let secret: string;
  let recoveryCodes: string[];

  it('set-up returns an otpauth URI and a QR code; verify-setup with a current code enables it', async () => {
    const setUp = await t.engine.users.mfaSetUp(t.owner, t.call());
    secret = setUp.secret;
    expect(setUp.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Talon:owner%40talon\.test\?secret=[A-Z2-7]+/u);
    expect(setUp.qr_code).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]{200,}$/u);
    expect(t.engine.users.mfaStatus(t.owner)).toMatchObject({ enabled: false, pending: true });
    await expectTalonError(
      t.engine.users.mfaVerifySetUp(t.owner, { code: '000000' }, t.call()),
      'unauthenticated',
    );
    const enabled = await t.engine.users.mfaVerifySetUp(
      t.owner,
      { code: code(secret, t.clock.now) },
      t.call(),
    );
    recoveryCodes = enabled.recovery_codes;
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(t.engine.lifecycle.status().mfa_enabled).toBe(true);
  });

  it('keeps the TOTP secret and the recovery codes out of the database in plain form', () => {
    const stored = withRawDatabase(t.databaseFile, (db) =>
      db.prepare('SELECT totp_json FROM users WHERE id = ?').pluck().get(t.owner.id),
    ) as string;
    expect(stored).not.toContain(secret);
    for (const recovery of recoveryCodes) expect(stored).not.toContain(recovery);
    const everything = JSON.stringify(auditActions());
    expect(everything).not.toContain(secret);
  });

  it('unlock then needs the code: missing and wrong codes are refused and Talon stays locked', async () => {
    await t.engine.lifecycle.lock(t.owner, t.call(), 'request');
    t.clock.advance(60_000);
    const missing = await expectTalonError(
      t.engine.lifecycle.unlock({ pin: t.pin }, t.call()),
      'unauthenticated',
    );
    expect(missing.message).toMatch(/totp_code/u);
    expect(missing.details).toMatchObject({ rule: 'mfa_required' });
    expect(t.engine.isUnlocked).toBe(false);
    await expectTalonError(
      t.engine.lifecycle.unlock({ pin: t.pin, totp_code: '123456' }, t.call()),
      'unauthenticated',
    );
    expect(t.engine.isUnlocked).toBe(false);
    // A wrong PIN with a right code is still a wrong PIN.
    await expectTalonError(
      t.engine.lifecycle.unlock({ pin: 'wrong-pin-99', totp_code: code(secret, t.clock.now) }, t.call()),
      'unauthenticated',
    );
  });

  it('unlock with PIN and current code works once per code; a recovery code works once', async () => {
    t.clock.advance(10_000);
    const current = code(secret, t.clock.now);
    const session = await t.engine.lifecycle.unlock({ pin: t.pin, totp_code: current }, t.call());
    expect(session.user.mfa_enabled).toBe(true);
    // The same code again (a replay within its 30 s) is refused.
    await expectTalonError(
      t.engine.lifecycle.unlock({ pin: t.pin, totp_code: current }, t.call()),
      'unauthenticated',
    );
    t.clock.advance(30_000);
    await t.engine.lifecycle.lock(t.owner, t.call(), 'request');
    t.clock.advance(60_000);
    await t.engine.lifecycle.unlock({ pin: t.pin, totp_code: recoveryCodes[0]! }, t.call());
    await t.engine.lifecycle.lock(t.owner, t.call(), 'request');
    t.clock.advance(60_000);
    await expectTalonError(
      t.engine.lifecycle.unlock({ pin: t.pin, totp_code: recoveryCodes[0]! }, t.call()),
      'unauthenticated',
    );
    t.clock.advance(60_000);
    await t.engine.lifecycle.unlock({ pin: t.pin, totp_code: code(secret, t.clock.now) }, t.call());
    expect(t.engine.users.mfaStatus(t.owner).recovery_codes_remaining).toBe(9);
  });

  it('headless unlock with the PIN alone still works (the PIN file is the operator factor)', async () => {
    await t.engine.lock(t.call());
    await t.engine.unlock(t.pin, t.call());
    expect(t.engine.isUnlocked).toBe(true);
  });

  it('disabling needs a current code', async () => {
    await expectTalonError(
      t.engine.users.mfaDisable(t.owner, { code: '111111' }, t.call()),
      'unauthenticated',
    );
    t.clock.advance(30_000);
    await t.engine.users.mfaDisable(t.owner, { code: code(secret, t.clock.now) }, t.call());
    expect(t.engine.lifecycle.status().mfa_enabled).toBe(false);
    const actions = auditActions().map((entry) => `${entry.action}:${entry.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.mfa.setup:success',
        'auth.mfa.enable:success',
        'auth.mfa.disable:success',
        'auth.mfa.disable:denied',
      ]),
    );
  });
});

describe('auto-lock', () => {
  it('locks after the idle time by the engine clock; requests reset the count', async () => {
    t.clock.advance(600_000);
    if (!t.engine.isUnlocked) await t.engine.unlock(t.pin, t.call());
    t.engine.lifecycle.setAutoLockMinutes(15);
    await t.engine.lock(t.call());
    await t.engine.lifecycle.unlock({ pin: t.pin }, t.call());
    const owner: UserPrincipal = t.owner;
    t.clock.advance(14 * 60_000);
    expect(t.engine.lifecycle.checkIdle()).toBe(false);
    await t.engine.auth.authenticate(t.ownerApiKey, t.call()); // a request
    t.clock.advance(14 * 60_000);
    expect(t.engine.lifecycle.checkIdle()).toBe(false);
    t.clock.advance(2 * 60_000);
    expect(t.engine.lifecycle.checkIdle()).toBe(true);
    expect(t.engine.isUnlocked).toBe(false);
    await expectTalonError(() => t.engine.vaults.list(owner), 'locked');
    const last = auditActions()
      .filter((entry) => entry.action === 'talon.lock')
      .at(-1)!;
    expect(JSON.parse(last.details)).toMatchObject({ reason: 'idle', via: 'auto-lock' });
  });

  it('0 minutes never locks by itself', async () => {
    t.engine.lifecycle.setAutoLockMinutes(0);
    await t.engine.unlock(t.pin, t.call());
    t.clock.advance(24 * 3600_000);
    expect(t.engine.lifecycle.checkIdle()).toBe(false);
    expect(t.engine.isUnlocked).toBe(true);
  });

  it('the timer itself locks a real, idle Talon', async () => {
    const realClock = new Engine(t.store, t.keyStore, { autoLockMinutes: 0.002 }); // 120 ms
    await realClock.lock(t.call());
    await t.engine.lock(t.call());
    await realClock.unlock(t.pin, { now: new Date() });
    expect(realClock.isUnlocked).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(realClock.isUnlocked).toBe(false);
  });
});
