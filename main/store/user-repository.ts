import type { Database } from 'better-sqlite3';
import type { RowCache } from './row-cache.js';
import type { UserRepository, UserRow } from './store.js';

type StoredUser = Omit<UserRow, 'isActive'> & { isActive: number };

const userColumns = `id, email, display_name AS displayName, role, password_hash AS passwordHash,
  totp_json AS totpJson, is_active AS isActive, created_at AS createdAt`;

function toUser(stored: StoredUser): UserRow {
  return { ...stored, isActive: stored.isActive === 1 };
}

export function createUserRepository(db: Database, cache: RowCache): UserRepository {
  const insert = db.prepare<StoredUser>(
    `INSERT INTO users (id, email, display_name, role, password_hash, totp_json, is_active, created_at)
     VALUES (@id, @email, @displayName, @role, @passwordHash, @totpJson, @isActive, @createdAt)`,
  );
  const get = db.prepare<[string], StoredUser>(`SELECT ${userColumns} FROM users WHERE id = ?`);
  // The column's NOCASE collation applies: the lookup ignores ASCII case, as the unique index does.
  const findByEmail = db.prepare<[string], StoredUser>(`SELECT ${userColumns} FROM users WHERE email = ?`);
  const list = db.prepare<[], StoredUser>(`SELECT ${userColumns} FROM users ORDER BY created_at, id`);
  const count = db.prepare<[], number>(`SELECT count(*) FROM users`).pluck();
  const update = db.prepare<Omit<StoredUser, 'createdAt'>>(
    `UPDATE users SET email = @email, display_name = @displayName, role = @role,
       password_hash = @passwordHash, totp_json = @totpJson, is_active = @isActive
     WHERE id = @id`,
  );
  const remove = db.prepare<[string]>(`DELETE FROM users WHERE id = ?`);
  const byId = cache.rows<UserRow>(1000);
  const changed = (id: string, changes: number) => {
    byId.delete(id);
    return changes > 0;
  };

  return {
    insert: (user) => void insert.run({ ...user, isActive: Number(user.isActive) }),
    get: (id) =>
      byId.get(id, () => {
        const stored = get.get(id);
        return stored && toUser(stored);
      }),
    findByEmail: (email) => {
      const stored = findByEmail.get(email);
      return stored && toUser(stored);
    },
    list: () => list.all().map(toUser),
    count: () => count.get() ?? 0,
    update: (user) => changed(user.id, update.run({ ...user, isActive: Number(user.isActive) }).changes),
    delete: (id) => changed(id, remove.run(id).changes),
  };
}
