import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../cli/talon-process.js';

/**
 * The packaging configuration, checked without a download: electron-builder's own schema
 * validation (app-builder-lib's validateConfiguration, the check `electron-builder` runs first),
 * then the fields that make the package safe and working.
 */
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

const file = join(repositoryRoot, 'electron-builder.yml');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the parsed YAML
const config = yaml.load(readFileSync(file, 'utf8')) as any;

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema validation", async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('is refused by that validation when a field is wrong (the check is real)', async () => {
    await expect(
      validateConfiguration({ ...config, asarUnpackk: [] }, new DebugLogger(false)),
    ).rejects.toThrow(/asarUnpackk/u);
  });

  it('names the app and packages it for Linux, macOS and Windows', () => {
    expect(config.appId).toBe('dev.talon.desktop');
    expect(config.productName).toBe('Talon');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.deb.depends).toContain('softhsm2');
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(readFileSync(join(repositoryRoot, config.mac.entitlements), 'utf8')).toContain(
      'com.apple.security.cs.allow-jit',
    );
    expect(config.win.target).toEqual(['nsis']);
    const icon = readFileSync(join(repositoryRoot, config.icon));
    expect(icon.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(icon.readUInt32BE(16)).toBeGreaterThanOrEqual(512);
  });

  it('rebuilds the native modules and keeps them out of the ASAR archive', () => {
    expect(config.npmRebuild).toBe(true);
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining(['node_modules/better-sqlite3/**', 'node_modules/pkcs11js/**']),
    );
    expect(config.extraMetadata.main).toBe('dist/main/electron/electron-main.js');
  });

  it('sets the fuses that close Node entry points', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });
});
