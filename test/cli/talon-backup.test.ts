import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodes } from '../../main/cli/exit-codes.js';
import { type TalonClient, createClient } from '../../main/client/index.js';
import { jsonOf, runTalonWith } from './cli-runner.js';
import { cleanEnvironment, cliPin, startServe } from './talon-process.js';

/**
 * `talon backup` / `restore` / `migrate` as real processes on a real data folder: backup →
 * wipe → restore gives back every secret and every version; a backup with one changed byte is
 * refused before anything is written; a running Talon's folder is refused.
 */
const scratch = mkdtempSync(join(tmpdir(), 'talon-backup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const dataDir = join(scratch, 'data');
const env = cleanEnvironment({ TALON_CONFIG_DIR: join(scratch, 'config') });
const talon = (args: string[]) => runTalonWith(args, env);

/** Every version of every secret (deleted ones too), with its value. */
async function everything(client: TalonClient): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  for (const vault of (await client.vault.list()).vaults) {
    for (const secret of await client.secrets.listAll(vault.id, undefined, { includeDeleted: true })) {
      const { versions } = await client.secrets
        .listVersions(vault.id, secret.path)
        .catch(() => ({ versions: [] }));
      for (const { version } of versions) {
        const read = await client.secrets
          .getVersion(vault.id, secret.path, version)
          .catch((error: Error) => error.message);
        seen[`${vault.name}/${secret.path}@${version}`] =
          typeof read === 'string'
            ? read
            : { value: (read as { value: string }).value, type: (read as { type: string }).type };
      }
      seen[`${vault.name}/${secret.path}`] = {
        version: secret.version,
        type: secret.type,
        deleted: secret.deleted_at !== null,
      };
    }
  }
  return seen;
}

describe('backup and restore', { timeout: 300_000 }, () => {
  it('backup → wipe → restore: every secret and version identical; tampering and a running Talon refused', async () => {
    let serving = await startServe(
      ['--data-dir', dataDir],
      cleanEnvironment({ TALON_HSM_PIN: cliPin }),
      60_000,
    );
    const ownerKey = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
    let client = createClient({ baseUrl: serving.url, apiKey: ownerKey });
    const one = await client.vault.create({ name: 'one' });
    const two = await client.vault.create({ name: 'two', strict_mode: true });
    await client.secrets.set(one.id, 'api-keys/stripe', 'sk_1', { type: 'api_key' });
    await client.secrets.set(one.id, 'api-keys/stripe', 'sk_2');
    await client.secrets.rotateGenerate(one.id, 'api-keys/stripe', { length: 48, charset: 'ascii' });
    await client.secrets.set(one.id, 'db/password', 'pässwörd ✓', {
      type: 'password',
      metadata: { owner: 'ci' },
    });
    await client.secrets.set(two.id, 'certs/server', '-----BEGIN-----\nline\n', { type: 'certificate' });
    await client.secrets.set(two.id, 'old/thing', 'soon deleted');
    await client.secrets.delete(two.id, 'old/thing');
    const before = await everything(client);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(8);

    const whileServing = await talon(['backup', join(scratch, 'refused'), '--data-dir', dataDir]);
    expect(whileServing.code).toBe(exitCodes.conflict);
    expect(whileServing.stderr).toMatch(/Another Talon .* is using the data folder/u);
    expect(existsSync(join(scratch, 'refused'))).toBe(false);
    await serving.stop();

    const backupDir = join(scratch, 'backup');
    const backup = await talon(['backup', backupDir, '--data-dir', dataDir, '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    const manifest = jsonOf(backup);
    expect(manifest).toMatchObject({
      format: 'talon-backup',
      backup: backupDir,
      schema_version: expect.any(Number),
    });
    const paths = manifest.files.map((file: { path: string }) => file.path);
    expect(paths).toContain('talon.db');
    expect(paths).toContain('softhsm2/so-pin.sealed');
    expect(paths.some((path: string) => path.startsWith('softhsm2/tokens/'))).toBe(true);
    expect(paths).not.toContain('owner-api-key');
    expect(JSON.stringify(readdirSync(backupDir))).not.toContain('owner-api-key');
    for (const file of manifest.files) expect(file.sha256).toMatch(/^[0-9a-f]{64}$/u);
    const databaseCopy = readFileSync(join(backupDir, 'talon.db'));
    expect(databaseCopy.includes(Buffer.from('pässwörd'))).toBe(false);
    expect(databaseCopy.includes(Buffer.from('sk_2'))).toBe(false);

    // One changed byte anywhere: refused, and nothing written.
    const tampered = join(scratch, 'tampered');
    cpSync(backupDir, tampered, { recursive: true });
    const copy = readFileSync(join(tampered, 'talon.db'));
    copy[copy.length - 100] = copy[copy.length - 100]! ^ 0xff;
    writeFileSync(join(tampered, 'talon.db'), copy);
    const refused = await talon(['restore', tampered, '--data-dir', join(scratch, 'from-tampered')]);
    expect(refused.code).toBe(exitCodes.integrity);
    expect(refused.stderr).toMatch(/talon\.db was changed/u);
    expect(existsSync(join(scratch, 'from-tampered'))).toBe(false);
    const edited = join(scratch, 'edited-manifest');
    cpSync(backupDir, edited, { recursive: true });
    const editedManifest = JSON.parse(readFileSync(join(edited, 'manifest.json'), 'utf8'));
    editedManifest.files[0].size += 1;
    writeFileSync(join(edited, 'manifest.json'), JSON.stringify(editedManifest));
    expect((await talon(['restore', edited, '--verify-only'])).code).toBe(exitCodes.integrity);
    writeFileSync(join(backupDir, 'extra.txt'), 'x');
    expect((await talon(['restore', backupDir, '--verify-only'])).stderr).toMatch(
      /extra\.txt is not in the manifest/u,
    );
    rmSync(join(backupDir, 'extra.txt'));
    expect((await talon(['restore', backupDir, '--verify-only'])).code).toBe(0);

    // A folder that holds a Talon is not overwritten without --force.
    expect((await talon(['restore', backupDir, '--data-dir', dataDir])).code).toBe(exitCodes.conflict);

    rmSync(dataDir, { recursive: true, force: true });
    const restored = await talon(['restore', backupDir, '--data-dir', dataDir, '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(jsonOf(restored)).toMatchObject({ restored: dataDir });
    expect(jsonOf(await talon(['migrate', '--data-dir', dataDir, '--json']))).toMatchObject({
      pending: [],
      applied: [],
    });

    serving = await startServe(['--data-dir', dataDir], cleanEnvironment({ TALON_HSM_PIN: cliPin }), 60_000);
    try {
      // The owner's key file is not in the backup; the key itself still works (the user kept it).
      client = createClient({ baseUrl: serving.url, apiKey: ownerKey });
      expect(await everything(client)).toEqual(before);
      expect(await client.audit.verify()).toMatchObject({ valid: true });
    } finally {
      await serving.stop();
    }
  });
});
