import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { outputOf, withExamples } from '../command-output.js';
import { lockDataFolder } from '../data-folder-lock.js';
import { progressBar } from '../progress-bar.js';
import { defaultDataDir } from '../talon-config.js';
import { talonVersion } from '../talon-version.js';

/**
 * Offline maintenance (`backup`, `restore`, `migrate`): they open the data folder directly, so
 * they take its lock first and refuse while `talon serve` or the app holds it.
 */

const databaseFileName = 'talon.db';

function dataDirOf(flags: { dataDir?: string }): string {
  return resolve(flags.dataDir || process.env.TALON_DATA_DIR || defaultDataDir());
}

/** The token folder travels with the backup only for the embedded SoftHSM2 token. */
function tokenFolder(dataDir: string) {
  return { name: 'softhsm2', path: join(dataDir, 'softhsm2'), exclude: ['softhsm2.conf'] as const };
}

function asCliError(error: unknown): never {
  if (error instanceof Error && error.name === 'BackupError') {
    const kind = (error as Error & { kind: string }).kind;
    throw new CliError(
      kind === 'integrity'
        ? 'integrity'
        : kind === 'exists'
          ? 'conflict'
          : kind === 'missing'
            ? 'not_found'
            : 'invalid_input',
      error.message,
    );
  }
  throw error;
}

export function registerMaintenanceCommands(program: Command): void {
  const dataDirHelp = 'data folder (default TALON_DATA_DIR, else ~/.local/share/talon)';

  withExamples(
    program
      .command('backup <target>')
      .description(
        'offline backup of a data folder (Talon must be stopped): a consistent database copy, the embedded token folder and a SHA-256 manifest. Useless without the token and its PIN.',
      )
      .option('--data-dir <dir>', dataDirHelp)
      .action(async (target: string, flags: { dataDir?: string }, command: Command) => {
        const out = outputOf(command);
        const dataDir = dataDirOf(flags);
        if (!existsSync(join(dataDir, databaseFileName))) {
          throw new CliError('not_found', `${dataDir} holds no Talon database; nothing to back up.`);
        }
        const { createBackup } = await import('../../store/backup.js');
        const lock = lockDataFolder(dataDir);
        const bar = progressBar('backup');
        try {
          const embedded = !process.env.TALON_PKCS11_MODULE;
          const manifest = await createBackup({
            databaseFile: join(dataDir, databaseFileName),
            folders: embedded ? [tokenFolder(dataDir)] : [],
            target: resolve(target),
            talonVersion: talonVersion(),
            onProgress: (step) => bar.update(step),
          }).catch(asCliError);
          bar.done();
          const bytes = manifest.files.reduce((sum, file) => sum + file.size, 0);
          out.result({ backup: resolve(target), ...manifest }, () => {
            console.log(
              `Backed up ${dataDir} to ${resolve(target)}: ${manifest.files.length} files, ${bytes} bytes, schema ${manifest.schema_version}.`,
            );
            console.log(
              embedded
                ? 'The backup holds the embedded token, whose keys open it: keep it as safe as the data folder. It is useless without the token PIN.'
                : 'Your token is a hardware token (TALON_PKCS11_MODULE): the backup is useless without that token and its PIN.',
            );
          });
        } finally {
          bar.done();
          lock.release();
        }
      }),
    [
      'talon backup ~/talon-backups/2026-11-29',
      'TALON_DATA_DIR=/srv/talon talon backup /mnt/usb/talon --json',
    ],
  );

  withExamples(
    program
      .command('restore <backup>')
      .description(
        'restore a backup into a data folder (Talon must be stopped); every file is checked against the manifest first',
      )
      .option('--data-dir <dir>', dataDirHelp)
      .option('--force', 'replace the database and token folder already in the data folder')
      .option('--verify-only', 'only check the backup, restore nothing')
      .action(
        async (
          source: string,
          flags: { dataDir?: string; force?: boolean; verifyOnly?: boolean },
          command: Command,
        ) => {
          const out = outputOf(command);
          const { restoreBackup, verifyBackup } = await import('../../store/backup.js');
          const from = resolve(source);
          const bar = progressBar(flags.verifyOnly ? 'verify' : 'restore');
          if (flags.verifyOnly) {
            const manifest = await verifyBackup(from, (step) => bar.update(step))
              .catch(asCliError)
              .finally(() => bar.done());
            out.result({ valid: true, ...manifest }, () =>
              console.log(
                `The backup in ${from} is intact: ${manifest.files.length} files, made ${manifest.created_at} by Talon ${manifest.talon_version}.`,
              ),
            );
            return;
          }
          const dataDir = dataDirOf(flags);
          // The backup is checked in full before anything here is created or touched (and again as it is copied).
          await verifyBackup(from).catch(asCliError);
          const { mkdirSync } = await import('node:fs');
          mkdirSync(dataDir, { recursive: true, mode: 0o700 });
          const lock = lockDataFolder(dataDir);
          try {
            const databaseFile = join(dataDir, databaseFileName);
            const token = tokenFolder(dataDir);
            const occupied =
              existsSync(databaseFile) || (existsSync(token.path) && readdirSync(token.path).length > 0);
            if (occupied && !flags.force) {
              throw new CliError(
                'conflict',
                `${dataDir} already holds a Talon. Restore into an empty folder (--data-dir), or replace it with --force.`,
              );
            }
            if (occupied) {
              for (const file of [databaseFile, `${databaseFile}-wal`, `${databaseFile}-shm`])
                rmSync(file, { force: true });
              rmSync(token.path, { recursive: true, force: true });
            }
            const manifest = await restoreBackup({
              source: from,
              databaseFile,
              folders: [token],
              onProgress: (step) => bar.update(step),
            }).catch(asCliError);
            bar.done();
            out.result({ restored: dataDir, ...manifest }, () => {
              console.log(
                `Restored the backup of ${manifest.created_at} into ${dataDir} (${manifest.files.length} files, all checked).`,
              );
              console.log('Start Talon and unlock it with the PIN the backed-up token had.');
            });
          } finally {
            bar.done();
            lock.release();
          }
        },
      ),
    [
      'talon restore ~/talon-backups/2026-11-29 --data-dir ~/.local/share/talon',
      'talon restore /mnt/usb/talon --verify-only',
    ],
  );

  withExamples(
    program
      .command('migrate')
      .description(
        'bring the database schema up to this Talon (Talon must be stopped; serve also does this at start)',
      )
      .option('--data-dir <dir>', dataDirHelp)
      .option('--dry-run', 'only say which migrations are pending')
      .action(async (flags: { dataDir?: string; dryRun?: boolean }, command: Command) => {
        const out = outputOf(command);
        const dataDir = dataDirOf(flags);
        const file = join(dataDir, databaseFileName);
        if (!existsSync(file))
          throw new CliError('not_found', `${dataDir} holds no Talon database; set it up with: talon init`);
        const [{ default: Database }, { migrations, schemaVersionOf }] = await Promise.all([
          import('better-sqlite3'),
          import('../../store/migrations/index.js'),
        ]);
        const lock = lockDataFolder(dataDir);
        try {
          const db = new Database(file, { fileMustExist: true });
          let before: number;
          try {
            db.pragma('busy_timeout = 5000');
            before = schemaVersionOf(db);
          } finally {
            db.close();
          }
          const latest = migrations.at(-1)?.version ?? 0;
          const pending = migrations.filter((m) => m.version > before).map((m) => m.version);
          if (before > latest) {
            throw new CliError(
              'conflict',
              `The database is at schema ${before}, newer than this Talon knows (${latest}): upgrade Talon.`,
            );
          }
          if (!flags.dryRun && pending.length > 0) {
            const { openSqliteStore } = await import('../../store/sqlite-store.js');
            openSqliteStore(file).close();
          }
          const result = {
            data_dir: dataDir,
            from: before,
            to: flags.dryRun ? before : latest,
            pending: flags.dryRun ? pending : [],
            applied: flags.dryRun ? [] : pending,
          };
          out.result(result, () =>
            console.log(
              pending.length === 0
                ? `The database is up to date (schema ${before}).`
                : flags.dryRun
                  ? `Pending migrations: ${pending.join(', ')} (schema ${before} → ${latest}).`
                  : `Migrated schema ${before} → ${latest} (${pending.join(', ')}).`,
            ),
          );
        } finally {
          lock.release();
        }
      }),
    ['talon migrate --dry-run', 'talon migrate --data-dir /srv/talon'],
  );
}
