import { generateSync } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HumanSession, MfaChallenge } from '../../main/engine/user-service.js';
import type { Principal } from '../../main/engine/principal.js';
import { hashPassword, verifyPassword } from '../../main/engine/password-hash.js';
import {
  type TestEngine,
  createTestEngine,
  expectTalonError,
  withRawDatabase,
} from '../fixtures/test-engine.js';

/**
 * Users for server mode: the owner adds, lists and disables them; each logs in with a password
 * (scrypt) and, once they turn it on, a TOTP code through 1Claw's mfa_required + mfa_token flow.
 */
let t: TestEngine;
const password = 'correct horse battery staple';
const code = (secret: string, at: Date) => generateSync({ secret, epoch: Math.floor(at.getTime() / 1000) });

beforeAll(async () => {
  t = await createTestEngine();
});
afterAll(async () => {
  await t.cleanup();
});

function audit(): string {
  return withRawDatabase(t.databaseFile, (db) =>
    JSON.stringify(db.prepare('SELECT action, outcome, details_json FROM audit_events').all()),
  );
}

describe('passwords', () => {
  it('are scrypt hashes with their salt and cost, checked in constant time', async () => {
    const hash = await hashPassword(password);
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/u);
    expect(hash).not.toContain(password);
    expect(await hashPassword(password)).not.toBe(hash);
    expect(await verifyPassword(password, hash)).toBe(true);
    expect(await verifyPassword(`${password}!`, hash)).toBe(false);
    expect(await verifyPassword(password, 'garbage')).toBe(false);
  });
});

describe('users', () => {
  let member: Principal;
  let memberId: string;

  it('the owner creates and lists users; a short password is refused', async () => {
    await expectTalonError(
      t.engine.users.create(t.owner, { email: 'ann@talon.test', password: 'short' }, t.call()),
      'invalid_input',
    );
    const created = await t.engine.users.create(
      t.owner,
      { email: 'ann@talon.test', password, display_name: 'Ann' },
      t.call(),
    );
    memberId = created.id;
    expect(created).toMatchObject({
      role: 'member',
      is_active: true,
      has_password: true,
      mfa_enabled: false,
    });
    expect(JSON.stringify(created)).not.toMatch(/scrypt|password_hash/u);
    await expectTalonError(
      t.engine.users.create(t.owner, { email: 'ANN@talon.test', password }, t.call()),
      'conflict',
    );
    expect(t.engine.users.list(t.owner).map((user) => user.email)).toEqual([
      'owner@talon.test',
      'ann@talon.test',
    ]);
  });

  it('login with email and password gives a session; members cannot manage users; agents cannot at all', async () => {
    const session = (await t.engine.users.login(
      { email: 'ann@talon.test', password },
      t.call(),
    )) as HumanSession;
    expect(session).toMatchObject({ token_type: 'Bearer', expires_in: 3600, user: { id: memberId } });
    member = await t.engine.auth.authenticate(session.access_token, t.call());
    expect(member).toEqual({ type: 'user', id: memberId, role: 'member' });
    expect(() => t.engine.users.list(member)).toThrow(/Only the owner/u);
    expect(t.engine.users.me(member).email).toBe('ann@talon.test');
    const agent = await t.engine.agents.create(t.owner, { name: 'nosy' }, t.call());
    const agentPrincipal = await t.engine.auth.authenticate(agent.api_key!, t.call());
    await expectTalonError(() => t.engine.users.list(agentPrincipal), 'forbidden');
    await expectTalonError(t.engine.users.mfaSetUp(agentPrincipal, t.call()), 'forbidden');
  });

  it('wrong passwords are refused alike for unknown emails, throttled after three, and audited without the password', async () => {
    for (let i = 0; i < 3; i += 1) {
      const error = await expectTalonError(
        t.engine.users.login({ email: 'ann@talon.test', password: `guess-number-${i}` }, t.call()),
        'unauthenticated',
      );
      expect(error.message).toBe('The email or password is wrong. Check both and try again.');
    }
    const unknown = await expectTalonError(
      t.engine.users.login({ email: 'nobody@talon.test', password }, t.call()),
      'unauthenticated',
    );
    expect(unknown.message).toBe('The email or password is wrong. Check both and try again.');
    await expectTalonError(
      t.engine.users.login({ email: 'ann@talon.test', password }, t.call()),
      'rate_limited',
    );
    t.clock.advance(1000);
    await t.engine.users.login({ email: 'ann@talon.test', password }, t.call());
    expect(audit()).toContain('auth.login');
    expect(audit()).not.toMatch(/guess-number|correct horse/u);
  });

  it('change-password needs the current one', async () => {
    await expectTalonError(
      t.engine.users.changePassword(
        member,
        { current_password: 'nope', new_password: 'another long passphrase' },
        t.call(),
      ),
      'unauthenticated',
    );
    await t.engine.users.changePassword(
      member,
      { current_password: password, new_password: 'another long passphrase' },
      t.call(),
    );
    await expectTalonError(
      t.engine.users.login({ email: 'ann@talon.test', password }, t.call()),
      'unauthenticated',
    );
    await t.engine.users.changePassword(
      member,
      { current_password: 'another long passphrase', new_password: password },
      t.call(),
    );
  });

  it('with 2FA on, login answers mfa_required; the mfa_token is no credential; verify with a code gives the session', async () => {
    const setUp = await t.engine.users.mfaSetUp(member, t.call());
    await t.engine.users.mfaVerifySetUp(member, { code: code(setUp.secret, t.clock.now) }, t.call());
    t.clock.advance(30_000);
    const challenge = (await t.engine.users.login(
      { email: 'ann@talon.test', password },
      t.call(),
    )) as MfaChallenge;
    expect(challenge).toMatchObject({ mfa_required: true, mfa_token: expect.any(String), expires_in: 300 });
    expect(challenge).not.toHaveProperty('access_token');
    await expectTalonError(t.engine.auth.authenticate(challenge.mfa_token, t.call()), 'unauthenticated');
    await expectTalonError(
      t.engine.users.verifyMfaLogin({ mfa_token: challenge.mfa_token, code: '000000' }, t.call()),
      'unauthenticated',
    );
    const session = await t.engine.users.verifyMfaLogin(
      { mfa_token: challenge.mfa_token, code: code(setUp.secret, t.clock.now) },
      t.call(),
    );
    expect(session.user).toMatchObject({ id: memberId, mfa_enabled: true });
    // The mfa_token expires after five minutes.
    t.clock.advance(6 * 60_000);
    await expectTalonError(
      t.engine.users.verifyMfaLogin(
        { mfa_token: challenge.mfa_token, code: code(setUp.secret, t.clock.now) },
        t.call(),
      ),
      'unauthenticated',
    );
    expect(audit()).not.toContain(setUp.secret);
  });

  it('disabling a user stops their sessions and keys at once; the owner cannot be disabled', async () => {
    const session = await t.engine.users.session(t.store.users.get(memberId)!, t.call());
    const key = t.engine.auth.createPersonalKey(member, 'laptop', t.call());
    t.engine.users.disable(t.owner, memberId, t.call());
    await expectTalonError(t.engine.auth.authenticate(session.access_token, t.call()), 'unauthenticated');
    await expectTalonError(t.engine.auth.authenticate(key.api_key, t.call()), 'unauthenticated');
    t.clock.advance(60_000);
    const refused = await expectTalonError(
      t.engine.users.login({ email: 'ann@talon.test', password }, t.call()),
      'unauthenticated',
    );
    expect(refused.message).toMatch(/disabled/u);
    await expectTalonError(() => t.engine.users.disable(t.owner, t.owner.id, t.call()), 'forbidden');
    expect(t.engine.users.update(t.owner, memberId, { is_active: true }, t.call()).is_active).toBe(true);
    expect(audit()).toMatch(/user\.disable.*user\.enable/su);
  });
});
