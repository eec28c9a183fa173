import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { HsmError, type KeyStore, createEmbeddedToken, embeddedTokenPaths } from '../../hsm-bridge/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'talon-embedded-'));
let keyStore: KeyStore | undefined;

afterAll(() => {
  keyStore?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('refuses a PIN SoftHSM2 cannot take before creating anything, so a good PIN then works', async () => {
  for (const pin of ['abc', 'x'.repeat(256)]) {
    const error = await createEmbeddedToken({ dataDir, tokenLabel: 'talon', userPin: pin }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(HsmError);
    expect((error as HsmError).kind).toBe('invalid_pin');
    expect((error as HsmError).message).toContain('4 to 255 bytes');
  }
  expect(existsSync(embeddedTokenPaths(dataDir).folder)).toBe(false); // nothing was created
  keyStore = await createEmbeddedToken({ dataDir, tokenLabel: 'talon', userPin: 'good-pin-1234' });
  expect(keyStore.tokenInfo().label).toBe('talon');
});
