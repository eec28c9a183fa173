import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type TalonRuntime, openTalon, serveTalon } from '../../main/cli/talon-runtime.js';
import { createTestClock, expectTalonError } from '../fixtures/test-engine.js';

/**
 * The composition root in process, as tests and the desktop app use it: one data folder (SoftHSM2
 * reads its configuration once per process), opened, served, closed and opened again.
 */
const dataDir = join(mkdtempSync(join(tmpdir(), 'talon-runtime-')), 'data');
const pin = 'runtime-test-pin';
const clock = createTestClock();
const opened: TalonRuntime[] = [];

async function open(withPin: string | null): Promise<TalonRuntime> {
  const runtime = await openTalon({ dataDir, pin: withPin, now: () => clock.now });
  opened.push(runtime);
  return runtime;
}

afterAll(async () => {
  for (const runtime of opened) await runtime.close();
  rmSync(join(dataDir, '..'), { recursive: true, force: true });
});

describe('openTalon and serveTalon', () => {
  it('refuse to set up a new folder without a PIN, or with a PIN the token cannot take', async () => {
    const error = await expectTalonError(open(null), 'locked');
    expect(error.message).toContain(`The data folder ${dataDir} is not set up yet`);
    expect(existsSync(join(dataDir, 'talon.lock'))).toBe(false);
    // Refused before the token is created, so the next attempt with a good PIN starts afresh.
    expect((await expectTalonError(open('abc'), 'invalid_input')).message).toMatch(/at least 8 characters/u);
    expect(readdirSync(join(dataDir, 'softhsm2', 'tokens'))).toEqual([]);
  });

  it('set a new folder up, serve it on the injected clock, and hold its lock until closed', async () => {
    const runtime = await open(pin);
    expect(runtime.created).toEqual({ token: true, owner: true });
    expect(runtime.engine.isUnlocked).toBe(true);
    expect(statSync(runtime.ownerKeyFile).mode & 0o777).toBe(0o600);
    const ownerKey = readFileSync(runtime.ownerKeyFile, 'utf8').trim();

    await expectTalonError(open(pin), 'conflict');

    const serving = await serveTalon(runtime, { port: 0, logger: pino({ level: 'silent' }) });
    expect(serving.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/u);
    const created = await fetch(`${serving.url}/v1/vaults`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'in-process' }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { created_at: string }).created_at).toBe(clock.now.toISOString());

    await serving.stop();
    expect(runtime.engine.isUnlocked).toBe(false);
    expect(existsSync(join(dataDir, 'talon.lock'))).toBe(false);
    await expect(fetch(`${serving.url}/v1/health`)).rejects.toThrow();
  });

  it('open a set-up folder locked without a PIN, and unlocked with it', async () => {
    const locked = await open(null);
    expect(locked.created).toEqual({ token: false, owner: false });
    expect(locked.engine.isUnlocked).toBe(false);
    await locked.close();

    const unlocked = await open(pin);
    expect(unlocked.created).toEqual({ token: false, owner: false });
    const owner = await unlocked.engine.auth.authenticate(
      readFileSync(unlocked.ownerKeyFile, 'utf8').trim(),
      {
        now: clock.now,
      },
    );
    expect(unlocked.engine.vaults.list(owner).map((vault) => vault.name)).toEqual(['in-process']);
    expect(unlocked.engine.verifyAudit(owner)).toMatchObject({ ok: true });
    await unlocked.close();
  });
});
