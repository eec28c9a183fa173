import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TalonError } from '../engine/talon-error.js';

/**
 * One process owns a data folder (DESIGN "One owner"): `talon.lock` holds its pid. A lock whose
 * process is gone is stale and taken over.
 */
export interface DataFolderLock {
  file: string;
  release(): void;
}

/** A lock file younger than this with no pid yet belongs to a Talon that is starting. */
const startingGraceMs = 5_000;

function holderOf(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isYoung(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < startingGraceMs;
  } catch {
    return false;
  }
}

export function lockDataFolder(dataDir: string): DataFolderLock {
  const file = join(dataDir, 'talon.lock');
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return {
        file,
        release() {
          if (holderOf(file) === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = holderOf(file);
    if (holder !== null ? isRunning(holder) : isYoung(file)) {
      throw new TalonError(
        'conflict',
        `Another Talon${holder !== null ? ` (process ${holder})` : ''} is using the data folder ${dataDir}. Stop it first, or give another data folder with TALON_DATA_DIR or --data-dir. If no Talon is running, delete ${file}.`,
      );
    }
    rmSync(file, { force: true });
  }
  throw new TalonError(
    'conflict',
    `Could not take the lock file ${file}. If no Talon is running, delete it.`,
  );
}
