import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../main/store/sqlite-store.js';

/** A folder of its own in the OS temp folder, removed by `remove()`. */
export function makeTemporaryFolder(): { folder: string; remove(): void } {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'talon-store-'));
  return { folder, remove: () => fs.rmSync(folder, { recursive: true, force: true }) };
}

/** A real SQLite store in a fresh temporary folder; `dispose()` closes it and removes the folder. */
export function openTemporaryStore(): { store: SqliteStore; file: string; dispose(): void } {
  const { folder, remove } = makeTemporaryFolder();
  const file = path.join(folder, 'talon.db');
  const store = openSqliteStore(file);
  return {
    store,
    file,
    dispose: () => {
      store.close();
      remove();
    },
  };
}
