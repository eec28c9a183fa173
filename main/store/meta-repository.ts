import type { Database } from 'better-sqlite3';
import type { MetaRepository } from './store.js';

export function createMetaRepository(db: Database): MetaRepository {
  const get = db.prepare<[string], string>(`SELECT value FROM meta WHERE key = ?`).pluck();
  const set = db.prepare<[string, string]>(
    `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  );
  const remove = db.prepare<[string]>(`DELETE FROM meta WHERE key = ?`);

  return {
    get: (key) => get.get(key),
    set: (key, value) => void set.run(key, value),
    delete: (key) => remove.run(key).changes > 0,
  };
}
