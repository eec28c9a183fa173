import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServingTalon, type TalonRuntime, openTalon, serveTalon } from '../../main/cli/talon-runtime.js';
import { createTestClock } from '../fixtures/test-engine.js';

/**
 * First run through the API, as the desktop app does it: Talon starts on an empty data folder with
 * no token and no PIN, answers `set_up: false`, and POST /v1/talon/setup creates the embedded token
 * with the PIN the human chose, the owner and their first key.
 */
const dataDir = join(mkdtempSync(join(tmpdir(), 'talon-rest-setup-')), 'data');
const clock = createTestClock();
const pin = 'my chosen passphrase';
let runtime: TalonRuntime;
let serving: ServingTalon;

async function post(path: string, body: unknown, credential?: string) {
  const response = await fetch(`${serving.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
}

afterAll(async () => {
  await serving?.stop();
  rmSync(join(dataDir, '..'), { recursive: true, force: true });
});

describe('POST /v1/talon/setup on an empty data folder', () => {
  it('Talon serves, not set up and locked, with no token yet', async () => {
    runtime = await openTalon({ dataDir, pin: null, awaitSetUp: true, now: () => clock.now });
    serving = await serveTalon(runtime, { port: 0, logger: pino({ level: 'silent' }) });
    const status = await (await fetch(`${serving.url}/v1/talon/status`)).json();
    expect(status).toMatchObject({ set_up: false, unlocked: false, mfa_enabled: false, token: null });
    expect(readdirSync(join(dataDir, 'softhsm2', 'tokens'))).toEqual([]);
    const unlock = await post('/v1/talon/unlock', { pin });
    expect(unlock.status).toBe(409);
    expect(unlock.body.detail).toMatch(/not set up yet/u);
  });

  it('refuses a weak PIN or a confirmation that differs, before creating anything', async () => {
    const mismatch = await post('/v1/talon/setup', { pin, pin_confirmation: `${pin}!` });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.detail).toMatch(/pin_confirmation: does not match/u);
    for (const weak of ['short', '12345678', 'aaaaaaaaaa', 'abcdefghij']) {
      const refused = await post('/v1/talon/setup', { pin: weak, pin_confirmation: weak });
      expect(refused.status, weak).toBe(400);
      expect(refused.text).not.toContain(`"${weak}"`);
    }
    expect(readdirSync(join(dataDir, 'softhsm2', 'tokens'))).toEqual([]);
  });

  it('sets up token, keys and owner; returns an owner session and the first key once; writes owner-api-key', async () => {
    const setUp = await post('/v1/talon/setup', { pin, pin_confirmation: pin, email: 'me@example.org' });
    expect(setUp.status).toBe(201);
    expect(setUp.body).toMatchObject({
      token_type: 'Bearer',
      user: { email: 'me@example.org', role: 'owner' },
      api_key: expect.stringMatching(/^1ck_/u),
    });
    expect(setUp.text).not.toContain(pin);
    const keyFile = join(dataDir, 'owner-api-key');
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(setUp.body.api_key);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dataDir, 'softhsm2', 'so-pin.sealed'))).toBe(true);
    const vault = await post('/v1/vaults', { name: 'first' }, setUp.body.access_token);
    expect(vault.status).toBe(201);
    const status = await (await fetch(`${serving.url}/v1/talon/status`)).json();
    expect(status).toMatchObject({
      set_up: true,
      unlocked: true,
      auto_lock_minutes: 15,
      token: { label: 'talon' },
    });
    expect((await post('/v1/talon/setup', { pin, pin_confirmation: pin })).status).toBe(409);
  });

  it('lock, then unlock with the chosen PIN', async () => {
    const key = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
    expect((await post('/v1/talon/lock', {}, key)).status).toBe(200);
    expect(runtime.engine.isUnlocked).toBe(false);
    const unlocked = await post('/v1/talon/unlock', { pin });
    expect(unlocked.status).toBe(200);
    expect(unlocked.body.user.email).toBe('me@example.org');
  });
});
