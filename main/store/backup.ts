import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import Database from 'better-sqlite3';
import { schemaVersionOf } from './migrations/index.js';

/**
 * Offline backups of a data folder: a consistent copy of the SQLite database (SQLite's online
 * backup API, page by page), the folders given (the embedded token's), and `manifest.json`, which
 * lists every file with its size and SHA-256 and ends with a digest of that list. Restoring checks
 * every file against the manifest first and refuses a backup in which anything was changed,
 * added or removed. A backup holds only what is encrypted at rest: without the token's keys (in
 * the token folder, or in the hardware token) and its PIN, its secrets cannot be read.
 */
export interface BackupManifest {
  format: 'talon-backup';
  format_version: 1;
  created_at: string;
  talon_version: string;
  schema_version: number;
  files: BackupFile[];
  /** SHA-256 over the file list, so an edited manifest is caught too. */
  digest: string;
}

export interface BackupFile {
  /** Relative, with `/` separators. */
  path: string;
  size: number;
  sha256: string;
}

/** A folder of the data folder that goes into the backup under `name`. */
export interface BackupFolder {
  name: string;
  path: string;
  /** File names left out (e.g. a config that holds the folder's absolute path). */
  exclude?: readonly string[];
}

export type BackupProgress = (step: { done: number; total: number; what: string }) => void;

export type BackupErrorKind = 'integrity' | 'invalid' | 'exists' | 'missing';

export class BackupError extends Error {
  constructor(
    readonly kind: BackupErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

export const manifestFileName = 'manifest.json';
export const databaseBackupName = 'talon.db';

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function listDigest(files: readonly BackupFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file.path}\0${file.size}\0${file.sha256}\n`);
  return hash.digest('hex');
}

/** Every file under `root`, relative, sorted. */
function filesUnder(root: string): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) found.push(relative(root, full).split(sep).join('/'));
    }
  };
  if (existsSync(root)) walk(root);
  return found.sort();
}

export interface CreateBackupOptions {
  databaseFile: string;
  folders: readonly BackupFolder[];
  /** A folder that must not exist yet (or be empty). */
  target: string;
  talonVersion: string;
  onProgress?: BackupProgress;
  now?: () => Date;
}

/** Writes a backup; the caller holds the data folder's lock, so nothing writes meanwhile. */
export async function createBackup(options: CreateBackupOptions): Promise<BackupManifest> {
  if (!existsSync(options.databaseFile)) {
    throw new BackupError('missing', `There is no database at ${options.databaseFile}: nothing to back up.`);
  }
  if (existsSync(options.target) && readdirSync(options.target).length > 0) {
    throw new BackupError(
      'exists',
      `${options.target} exists and is not empty; give a new folder for the backup.`,
    );
  }
  mkdirSync(options.target, { recursive: true, mode: 0o700 });
  const progress = options.onProgress ?? (() => undefined);
  const extra = options.folders.flatMap((folder) =>
    filesUnder(folder.path)
      .filter((file) => !(folder.exclude ?? []).includes(file))
      .map((file) => ({ from: join(folder.path, file), to: `${folder.name}/${file}` })),
  );
  const total = 100 + extra.length;

  const database = new Database(options.databaseFile, { fileMustExist: true });
  const copy = join(options.target, databaseBackupName);
  try {
    await database.backup(copy, {
      progress: ({ totalPages, remainingPages }) => {
        progress({
          done: Math.floor((100 * (totalPages - remainingPages)) / Math.max(totalPages, 1)),
          total,
          what: 'database',
        });
        return 256;
      },
    });
  } finally {
    database.close();
  }
  const copied = new Database(copy, { fileMustExist: true });
  let schemaVersion: number;
  try {
    // The copy is a single file: no write-ahead log travels with it.
    copied.pragma('journal_mode = DELETE');
    const integrity = (copied.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
    if (integrity !== 'ok')
      throw new BackupError('integrity', `The database copy fails SQLite's integrity check: ${integrity}`);
    schemaVersion = schemaVersionOf(copied);
  } finally {
    copied.close();
  }

  extra.forEach((file, index) => {
    const to = join(options.target, ...file.to.split('/'));
    mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
    copyFileSync(file.from, to);
    progress({ done: 100 + index + 1, total, what: file.to });
  });

  const files: BackupFile[] = [];
  for (const path of [databaseBackupName, ...extra.map((file) => file.to)]) {
    const full = join(options.target, ...path.split('/'));
    files.push({ path, size: statSync(full).size, sha256: await sha256File(full) });
  }
  const manifest: BackupManifest = {
    format: 'talon-backup',
    format_version: 1,
    created_at: (options.now?.() ?? new Date()).toISOString(),
    talon_version: options.talonVersion,
    schema_version: schemaVersion,
    files,
    digest: listDigest(files),
  };
  writeFileSync(join(options.target, manifestFileName), `${JSON.stringify(manifest, null, 2)}\n`, {
    mode: 0o600,
  });
  return manifest;
}

/**
 * Checks a backup against its manifest: every file listed present with its size and SHA-256, no
 * file that is not listed, and the list's digest. Throws BackupError('integrity') naming what
 * differs.
 */
export async function verifyBackup(source: string, onProgress?: BackupProgress): Promise<BackupManifest> {
  const manifestFile = join(source, manifestFileName);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BackupManifest;
  } catch {
    throw new BackupError(
      'invalid',
      `${source} is not a Talon backup: it has no readable ${manifestFileName}.`,
    );
  }
  if (
    manifest?.format !== 'talon-backup' ||
    manifest.format_version !== 1 ||
    !Array.isArray(manifest.files)
  ) {
    throw new BackupError(
      'invalid',
      `${manifestFile} is not the manifest of a Talon backup this Talon can read.`,
    );
  }
  const problems: string[] = [];
  if (manifest.digest !== listDigest(manifest.files)) problems.push('the manifest itself was edited');
  const listed = new Set(manifest.files.map((file) => file.path));
  if (!listed.has(databaseBackupName)) problems.push(`the manifest lists no ${databaseBackupName}`);
  for (const path of filesUnder(source)) {
    if (path !== manifestFileName && !listed.has(path)) problems.push(`${path} is not in the manifest`);
  }
  let index = 0;
  for (const file of manifest.files) {
    index += 1;
    onProgress?.({ done: index, total: manifest.files.length, what: file.path });
    if (file.path.split('/').some((segment) => segment === '..' || segment === '' || segment === '.')) {
      problems.push(`${file.path} is not a plain relative path`);
      continue;
    }
    const full = join(source, ...file.path.split('/'));
    if (!existsSync(full)) {
      problems.push(`${file.path} is missing`);
      continue;
    }
    if (statSync(full).size !== file.size || (await sha256File(full)) !== file.sha256)
      problems.push(`${file.path} was changed`);
  }
  if (problems.length > 0) {
    throw new BackupError(
      'integrity',
      `The backup in ${source} fails its integrity check, so it is not used: ${problems.join('; ')}.`,
    );
  }
  return manifest;
}

export interface RestoreBackupOptions {
  source: string;
  databaseFile: string;
  folders: readonly Pick<BackupFolder, 'name' | 'path'>[];
  onProgress?: BackupProgress;
}

/**
 * Verifies the backup, then puts its files in place. The caller holds the data folder's lock and
 * has made sure nothing is there to overwrite (or cleared it on request).
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<BackupManifest> {
  const manifest = await verifyBackup(options.source);
  if (existsSync(options.databaseFile)) {
    throw new BackupError('exists', `${options.databaseFile} exists; restore into an empty data folder.`);
  }
  const folderOf = new Map(options.folders.map((folder) => [folder.name, folder.path]));
  let index = 0;
  for (const file of manifest.files) {
    index += 1;
    const [head, ...rest] = file.path.split('/');
    let target: string;
    if (file.path === databaseBackupName) target = options.databaseFile;
    else if (head !== undefined && folderOf.has(head) && rest.length > 0)
      target = join(folderOf.get(head)!, ...rest);
    else
      throw new BackupError(
        'invalid',
        `The backup holds ${file.path}, which this Talon does not know where to put.`,
      );
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    copyFileSync(join(options.source, ...file.path.split('/')), target);
    if ((await sha256File(target)) !== file.sha256) {
      rmSync(target, { force: true });
      throw new BackupError('integrity', `${file.path} changed while it was restored; try again.`);
    }
    options.onProgress?.({ done: index, total: manifest.files.length, what: file.path });
  }
  return manifest;
}
