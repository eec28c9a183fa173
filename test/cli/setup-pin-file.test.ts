import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTalonConfig } from '../../main/cli/talon-config.js';
import { expectTalonError } from '../fixtures/test-engine.js';

/** Headless unlock reads the PIN from a file only its owner can read, and the idle time from the environment. */
const folder = mkdtempSync(join(tmpdir(), 'talon-pin-file-'));
const pinFile = join(folder, 'pin');
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('TALON_HSM_PIN_FILE', () => {
  for (const mode of [0o640, 0o604, 0o660, 0o644]) {
    it(`refuses a PIN file with mode ${mode.toString(8)}, saying chmod 600`, async () => {
      writeFileSync(pinFile, 'file-pin-2024\n');
      chmodSync(pinFile, mode);
      const error = await expectTalonError(
        () => resolveTalonConfig({}, { TALON_HSM_PIN_FILE: pinFile }),
        'forbidden',
      );
      expect(error.message).toContain(`chmod 600 '${pinFile}'`);
      expect(error.message).not.toContain('file-pin-2024');
    });
  }

  it('reads a 0600 file without its trailing newline', () => {
    chmodSync(pinFile, 0o600);
    expect(resolveTalonConfig({}, { TALON_HSM_PIN_FILE: pinFile }).pin).toBe('file-pin-2024');
  });
});

describe('TALON_AUTO_LOCK_MINUTES', () => {
  it('defaults to 15, takes 0 for never, and refuses what is not a number', async () => {
    expect(resolveTalonConfig({}, {}).autoLockMinutes).toBe(15);
    expect(resolveTalonConfig({}, { TALON_AUTO_LOCK_MINUTES: '0' }).autoLockMinutes).toBe(0);
    expect(resolveTalonConfig({}, { TALON_AUTO_LOCK_MINUTES: '2.5' }).autoLockMinutes).toBe(2.5);
    const error = await expectTalonError(
      () => resolveTalonConfig({}, { TALON_AUTO_LOCK_MINUTES: 'soon' }),
      'invalid_input',
    );
    expect(error.message).toMatch(/TALON_AUTO_LOCK_MINUTES must be a number of minutes/u);
  });
});

describe('TALON_RATE_LIMIT', () => {
  it('defaults to 600 a minute per address, and refuses what is not a positive whole number', async () => {
    expect(resolveTalonConfig({}, {}).rateLimitPerMinute).toBe(600);
    expect(resolveTalonConfig({}, { TALON_RATE_LIMIT: '5000' }).rateLimitPerMinute).toBe(5000);
    for (const bad of ['0', '-1', '2.5', 'lots']) {
      const error = await expectTalonError(
        () => resolveTalonConfig({}, { TALON_RATE_LIMIT: bad }),
        'invalid_input',
      );
      expect(error.message).toMatch(/TALON_RATE_LIMIT must be a whole number of requests per minute/u);
    }
  });
});
