import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHsmError } from '../../hsm-bridge/hsm-error.js';
import { hsmToTalonError } from '../../main/engine/value-barrier.js';
import { TalonError } from '../../main/engine/talon-error.js';
import { cleanEnvironment, cliPin, runTalon } from '../cli/talon-process.js';
import { report } from './reliability-report.js';
import { storeDigest } from './store-digest.js';
import { type ChildAnswer, type ChildTalon, startChildTalon } from './talon-child.js';

/**
 * Token faults against a running `talon serve`. We run as root, for whom `chmod 000` stops
 * nothing, so the token is taken away as a disconnected token would be: its folder is moved away
 * (SoftHSM2 then answers CKR_GENERAL_ERROR to everything, for good, until its module is
 * initialised again), with and without its configuration file. Talon must answer 503
 * hsm_unavailable with a clear detail, change nothing, stay up, and recover once the token is back.
 */

let talon: ChildTalon;
const vault: Record<'warm' | 'cold' | 'strict', string> = { warm: '', cold: '', strict: '' };
const values: Record<keyof typeof vault, string> = {
  warm: 'warm-session-value',
  cold: 'cold-session-value',
  strict: 'strict-mode-value',
};
const secretUrl = (which: keyof typeof vault) => `/v1/vaults/${vault[which]}/secrets/fault/probe`;

beforeAll(async () => {
  talon = await startChildTalon();
  await talon.start();
  for (const which of ['warm', 'cold', 'strict'] as const) {
    const created = await talon.request('POST', '/v1/vaults', {
      json: { name: `faults-${which}`, strict_mode: which === 'strict' },
    });
    expect(created.status).toBe(201);
    vault[which] = created.body.id as string;
    const put = await talon.request('PUT', secretUrl(which), { json: { value: values[which] } });
    expect(put.status).toBe(201);
  }
  // A fresh process: no vault key is in memory until a vault is first used.
  await talon.stop();
  await talon.start();
  expect((await talon.request('GET', secretUrl('warm'))).body.value).toBe(values.warm);
}, 180_000);

afterAll(async () => {
  await talon?.cleanup();
});

function expectUnavailable(answer: ChildAnswer, what: string): void {
  expect({ what, status: answer.status, code: answer.body?.code }).toEqual({
    what,
    status: 503,
    code: 'hsm_unavailable',
  });
  expect(answer.body.detail).toMatch(/token/iu);
  expect(answer.body.detail.length).toBeGreaterThan(30);
}

/** Waits until the strict vault reads again: Talon gets the token back by itself. */
async function waitForRecovery(): Promise<number> {
  const started = Date.now();
  for (;;) {
    const read = await talon.request('GET', secretUrl('strict'));
    if (read.status === 200) {
      expect(read.body.value).toBe(values.strict);
      return Date.now() - started;
    }
    expect(read.status).toBe(503);
    if (Date.now() - started > 15_000) throw new Error('Talon did not get the token back in 15 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('token faults', () => {
  it('answers 503 hsm_unavailable while the token is gone, changes nothing, and recovers', async () => {
    const softhsm = join(talon.dataDir, 'softhsm2');
    const rounds = 4;
    let unavailableAnswers = 0;
    let otherAnswers = 0;
    const recoveries: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const before = storeDigest(talon.databaseFile);
      const withoutConfig = round % 2 === 1;
      renameSync(talon.tokenFolder, `${talon.tokenFolder}.away`);
      if (withoutConfig) renameSync(join(softhsm, 'softhsm2.conf'), join(softhsm, 'softhsm2.conf.away'));

      const attempts: [string, Promise<ChildAnswer>][] = [];
      for (let i = 0; i < 10; i += 1) {
        attempts.push(
          ['strict read', talon.request('GET', secretUrl('strict'))],
          ['strict write', talon.request('PUT', secretUrl('strict'), { json: { value: `lost-${i}` } })],
          [
            'vault create',
            talon.request('POST', '/v1/vaults', { json: { name: `never-${round}-${i}`, strict_mode: true } }),
          ],
        );
        if (round === 0) attempts.push(['cold session read', talon.request('GET', secretUrl('cold'))]);
      }
      for (const [what, answer] of attempts) {
        expectUnavailable(await answer, what);
        unavailableAnswers += 1;
      }
      expectUnavailable(await talon.request('GET', '/v1/health/hsm', { credential: null }), 'health/hsm');
      // A session-mode vault already unlocked keeps its key in memory: its reads go on.
      const warm = await talon.request('GET', secretUrl('warm'));
      expect(warm.status).toBe(200);
      expect(warm.body.value).toBe(values.warm);
      otherAnswers += 1;
      const health = await talon.request('GET', '/v1/health', { credential: null });
      expect(health.body).toMatchObject({ status: 'ok', locked: false });
      expect(storeDigest(talon.databaseFile)).toEqual(before);

      renameSync(`${talon.tokenFolder}.away`, talon.tokenFolder);
      if (withoutConfig) renameSync(join(softhsm, 'softhsm2.conf.away'), join(softhsm, 'softhsm2.conf'));
      recoveries.push(await waitForRecovery());
      expect((await talon.request('GET', secretUrl('cold'))).body.value).toBe(values.cold);
      expect((await talon.request('GET', '/v1/health/hsm', { credential: null })).status).toBe(200);
    }
    const write = await talon.request('PUT', `/v1/vaults/${vault.strict}/secrets/fault/after`, {
      json: { value: 'after-recovery' },
    });
    expect(write.status).toBe(201);
    expect((await talon.request('GET', '/v1/audit/verify')).body).toMatchObject({ valid: true });
    expect(talon.output()).not.toMatch(/segmentation|core dumped|unexpected error/iu);
    report('token-faults', {
      rounds,
      rounds_without_softhsm2_conf: rounds / 2,
      fault: 'token folder moved away (root ignores chmod 000)',
      answers_503_hsm_unavailable: unavailableAnswers,
      warm_session_reads_served: otherAnswers,
      recovery_ms: recoveries,
      process_restarts: 0,
    });
  }, 120_000);

  it('refuses to start on a module that cannot be loaded, saying which, and changes nothing', async () => {
    await talon.stop();
    const before = storeDigest(talon.databaseFile);
    const garbage = join(talon.dataDir, 'not-a-module.so');
    writeFileSync(garbage, 'this is not a shared library');
    const tried: string[] = [];
    for (const modulePath of [garbage, join(talon.dataDir, 'missing-module.so')]) {
      const started = await runTalon(
        ['serve', '--data-dir', talon.dataDir, '--port', '0'],
        cleanEnvironment({ TALON_HSM_PIN: cliPin, TALON_PKCS11_MODULE: modulePath }),
      );
      expect(started.code).toBe(1);
      expect(started.stderr).toContain(`The PKCS#11 module ${modulePath}`);
      expect(started.stderr).not.toContain(cliPin);
      tried.push(started.stderr.trim().split('\n')[0]!);
    }
    expect(storeDigest(talon.databaseFile)).toEqual(before);
    await talon.start();
    expect((await talon.request('GET', secretUrl('strict'))).status).toBe(200);
    report('token-faults-module', { unloadable_modules_tried: tried.length, first_lines: tried });
  }, 120_000);
});

describe('wrong PIN', () => {
  it('answers 401 with a clear message, then makes every try wait (429, Retry-After), and the right PIN still unlocks', async () => {
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const unlock = (pin: string) =>
      talon.request('POST', '/v1/talon/unlock', { json: { pin }, credential: null });
    const before = storeDigest(talon.databaseFile);
    expect((await talon.request('POST', '/v1/talon/lock')).status).toBe(200);
    expect((await talon.request('GET', secretUrl('strict'))).status).toBe(423);
    const answers: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const wrong = await unlock(`wrong-pin-${i}`);
      expect({ status: wrong.status, code: wrong.body.code }).toEqual({
        status: 401,
        code: 'unauthenticated',
      });
      expect(wrong.body.detail).toMatch(/PIN is wrong/u);
      expect(wrong.text).not.toContain(`wrong-pin-${i}`);
      answers.push('401');
    }
    // After three wrong PINs even the right one waits: 1 s, then 2 s after the next wrong one.
    const throttled = await unlock(cliPin);
    expect({ status: throttled.status, code: throttled.body.code }).toEqual({
      status: 429,
      code: 'rate_limited',
    });
    expect(throttled.body.retry_after).toBe(1);
    answers.push(`429 retry_after=${throttled.body.retry_after}`);
    await pause(1100);
    expect((await unlock('wrong-pin-3')).status).toBe(401);
    answers.push('401');
    const longer = await unlock(cliPin);
    expect(longer.status).toBe(429);
    expect(longer.body.retry_after).toBe(2);
    answers.push(`429 retry_after=${longer.body.retry_after}`);
    await pause(2100);
    const unlocked = await unlock(cliPin);
    expect(unlocked.status).toBe(200);
    answers.push('200');
    expect((await talon.request('GET', secretUrl('strict'))).body.value).toBe(values.strict);
    // Nothing but the audit log (and the count of wrong tries, cleared at unlock) changed.
    expect(storeDigest(talon.databaseFile)).toEqual(before);
    expect((await talon.request('GET', '/v1/audit/verify')).body).toMatchObject({ valid: true });
    // A token that counts tries itself (a YubiHSM 2) answers CKR_PIN_LOCKED at its limit: 403 with what to do.
    const locked = hsmToTalonError(
      toHsmError(new pkcs11js.Pkcs11Error('CKR_PIN_LOCKED:164', pkcs11js.CKR_PIN_LOCKED), 'logging in'),
    );
    expect(locked).toBeInstanceOf(TalonError);
    expect((locked as TalonError).status).toBe(403);
    expect((locked as TalonError).message).toMatch(/security officer PIN/u);
    report('token-faults-pin', {
      over: 'POST /v1/talon/unlock on talon serve',
      answers,
      softhsm2_counts_tries: false,
      ckr_pin_locked_answer: '403 forbidden',
    });
  }, 60_000);
});
