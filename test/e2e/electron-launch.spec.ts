import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { repositoryRoot } from '../cli/talon-process.js';
import { screen } from './talon-fixture.js';

/**
 * Launches the real desktop app where an Electron binary exists. Where none is installed
 * (Electron's download needs the network) the test reports itself skipped and says why; the
 * shell's logic is unit-tested without Electron in test/electron/. The binary is looked up as
 * `require('electron')` does (path.txt, then dist/), but without calling it: on a missing binary
 * that call starts a download.
 */
function electronBinary(): { path: string | null; why: string } {
  const packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) {
    return {
      path: null,
      why: `no Electron binary is installed (${pathFile} is missing; it was skipped at npm install with ELECTRON_SKIP_BINARY_DOWNLOAD, or the download failed)`,
    };
  }
  const relative = readFileSync(pathFile, 'utf8').trim();
  const base = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(packageDir, 'dist');
  const binary = join(base, relative);
  if (!existsSync(binary)) return { path: null, why: `the Electron binary ${binary} does not exist` };
  // Now require('electron') returns that path without downloading anything.
  const path = createRequire(import.meta.url)('electron') as string;
  return { path, why: '' };
}

const binary = electronBinary();
const main = join(repositoryRoot, 'dist', 'main', 'electron', 'electron-main.js');

test('the desktop app opens its hardened window on the set-up screen', async () => {
  test.skip(binary.path === null, `Electron launch skipped: ${binary.why}.`);
  test.skip(
    !existsSync(main),
    'Electron launch skipped: run `npm run build` first (dist/main/electron is missing).',
  );
  const dataDir = mkdtempSync(join(tmpdir(), 'talon-electron-'));
  const app = await electron.launch({
    executablePath: binary.path!,
    args: [main],
    env: { ...process.env, TALON_DATA_DIR: dataDir, TALON_PORT: '0' } as Record<string, string>,
  });
  try {
    const window = await app.firstWindow();
    await expect(window.getByRole('heading', { name: 'Set up Talon' })).toBeVisible({ timeout: 30_000 });
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe(
      'undefined',
    );
    expect(await window.evaluate(() => typeof (globalThis as { talon?: unknown }).talon)).toBe('object');
    await screen(window, '30-electron-setup');
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
