import { generateSync } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApi, expectProblem, startTestApi } from '../fixtures/test-api-server.js';

/** The human side over HTTP: /v1/talon status, unlock and lock; users; 1Claw's login and MFA routes. */
let api: TestApi;
let agentKey: string;
const password = 'a long enough passphrase';
const code = (secret: string, at: Date) => generateSync({ secret, epoch: Math.floor(at.getTime() / 1000) });

beforeAll(async () => {
  api = await startTestApi();
  const agent = await api.request('POST', '/v1/agents', {
    credential: api.t.ownerApiKey,
    json: { name: 'a1' },
  });
  agentKey = agent.body.api_key;
});
afterAll(async () => {
  await api.close();
});

describe('/v1/talon', () => {
  it('status needs no credential and tells nothing secret', async () => {
    const status = await api.request('GET', '/v1/talon/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      set_up: true,
      unlocked: true,
      mfa_enabled: false,
      token: { label: 'talon-test' },
    });
  });

  it('set-up of a Talon already set up is 409, whatever the PIN', async () => {
    const again = await api.request('POST', '/v1/talon/setup', {
      json: { pin: 'first-choice-1', pin_confirmation: 'first-choice-1' },
    });
    expect(expectProblem(again, 409, 'conflict').detail).toMatch(/already set up/u);
    expect(again.text).not.toContain('first-choice');
  });

  it('lock needs a human: none is 401, an agent 403; locked, agents get 423 with a clear detail', async () => {
    expectProblem(await api.request('POST', '/v1/talon/lock'), 401, 'unauthenticated');
    expectProblem(await api.request('POST', '/v1/talon/lock', { credential: agentKey }), 403, 'forbidden');
    const locked = await api.request('POST', '/v1/talon/lock', { credential: api.t.ownerApiKey });
    expect(locked.status).toBe(200);
    expect(locked.body).toMatchObject({ unlocked: false });
    const agentCall = await api.request('GET', '/v1/vaults', { credential: agentKey });
    expect(expectProblem(agentCall, 423, 'locked').detail).toMatch(
      /Talon is locked\. A human must unlock it with the token PIN/u,
    );
    // Locking a locked Talon changes nothing and needs nothing.
    expect((await api.request('POST', '/v1/talon/lock')).status).toBe(200);
  });

  it('unlock: a wrong PIN is 401, throttled ones 429 with Retry-After; the right PIN gives a Bearer session', async () => {
    for (let i = 0; i < 3; i += 1) {
      expectProblem(
        await api.request('POST', '/v1/talon/unlock', { json: { pin: 'wrong-wrong' } }),
        401,
        'unauthenticated',
      );
    }
    const throttled = await api.request('POST', '/v1/talon/unlock', { json: { pin: api.t.pin } });
    expectProblem(throttled, 429, 'rate_limited');
    expect(throttled.headers.get('retry-after')).toBe('1');
    api.t.clock.advance(1000);
    const unlocked = await api.request('POST', '/v1/talon/unlock', { json: { pin: api.t.pin } });
    expect(unlocked.status).toBe(200);
    expect(unlocked.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, user: { role: 'owner' } });
    const vaults = await api.request('GET', '/v1/vaults', { credential: unlocked.body.access_token });
    expect(vaults.status).toBe(200);
  });
});

describe('users, login and MFA', () => {
  let userId: string;
  let secret: string;

  it('the owner adds a user; the user logs in at POST /v1/auth/token', async () => {
    const created = await api.request('POST', '/v1/users', {
      credential: api.t.ownerApiKey,
      json: { email: 'bo@talon.test', password, display_name: 'Bo' },
    });
    expect(created.status).toBe(201);
    userId = created.body.id;
    const list = await api.request('GET', '/v1/users', { credential: api.t.ownerApiKey });
    expect(list.body.users.map((user: { email: string }) => user.email)).toContain('bo@talon.test');
    expectProblem(await api.request('GET', '/v1/users', { credential: agentKey }), 403, 'forbidden');
    const login = await api.request('POST', '/v1/auth/token', { json: { email: 'bo@talon.test', password } });
    expect(login.status).toBe(200);
    const me = await api.request('GET', '/v1/auth/me', { credential: login.body.access_token });
    expect(me.body).toMatchObject({ id: userId, email: 'bo@talon.test', role: 'member' });
    expectProblem(
      await api.request('POST', '/v1/auth/token', {
        json: { email: 'bo@talon.test', password: 'nope-nope' },
      }),
      401,
      'unauthenticated',
    );
  });

  it('MFA: setup (URI and QR code), verify-setup, then login needs /v1/auth/mfa/verify; disable needs a code', async () => {
    const login = await api.request('POST', '/v1/auth/token', { json: { email: 'bo@talon.test', password } });
    const bearer = login.body.access_token as string;
    const setUp = await api.request('POST', '/v1/auth/mfa/setup', { credential: bearer });
    expect(setUp.status).toBe(200);
    expect(setUp.body.qr_code).toMatch(/^data:image\/png;base64,/u);
    secret = setUp.body.secret;
    const enabled = await api.request('POST', '/v1/auth/mfa/verify-setup', {
      credential: bearer,
      json: { code: code(secret, api.t.clock.now) },
    });
    expect(enabled.body.recovery_codes).toHaveLength(10);
    const status = await api.request('GET', '/v1/auth/mfa/status', { credential: bearer });
    expect(status.body).toMatchObject({ enabled: true, recovery_codes_remaining: 10 });

    api.t.clock.advance(30_000);
    const challenge = await api.request('POST', '/v1/auth/token', {
      json: { email: 'bo@talon.test', password },
    });
    expect(challenge.body).toMatchObject({ mfa_required: true, mfa_token: expect.any(String) });
    expectProblem(
      await api.request('GET', '/v1/auth/me', { credential: challenge.body.mfa_token }),
      401,
      'unauthenticated',
    );
    const verified = await api.request('POST', '/v1/auth/mfa/verify', {
      json: { mfa_token: challenge.body.mfa_token, code: enabled.body.recovery_codes[0] },
    });
    expect(verified.status).toBe(200);
    expect(verified.body.user).toMatchObject({ id: userId, mfa_enabled: true });

    expectProblem(
      await api.request('DELETE', '/v1/auth/mfa', { credential: bearer, json: { code: '000000' } }),
      401,
      'unauthenticated',
    );
    api.t.clock.advance(30_000);
    const disabled = await api.request('POST', '/v1/auth/mfa/disable', {
      credential: bearer,
      json: { code: code(secret, api.t.clock.now) },
    });
    expect(disabled.body).toEqual({ enabled: false });
  });

  it('DELETE /v1/users/{id} disables: the user can no longer log in; PATCH enables again', async () => {
    const disabled = await api.request('DELETE', `/v1/users/${userId}`, { credential: api.t.ownerApiKey });
    expect(disabled.status).toBe(204);
    api.t.clock.advance(60_000);
    const refused = await api.request('POST', '/v1/auth/token', {
      json: { email: 'bo@talon.test', password },
    });
    expect(expectProblem(refused, 401, 'unauthenticated').detail).toMatch(/disabled/u);
    const enabled = await api.request('PATCH', `/v1/users/${userId}`, {
      credential: api.t.ownerApiKey,
      json: { is_active: true },
    });
    expect(enabled.body).toMatchObject({ is_active: true });
    expectProblem(
      await api.request('DELETE', `/v1/users/${api.t.owner.id}`, { credential: api.t.ownerApiKey }),
      403,
      'forbidden',
    );
  });
});
