import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkMigrationOrder,
  migrate,
  migrations,
  schemaVersionOf,
} from '../../main/store/migrations/index.js';
import { openSqliteStore } from '../../main/store/sqlite-store.js';
import { sampleVault } from './sample-rows.js';
import { makeTemporaryFolder } from './temporary-store.js';

const latest = migrations.at(-1)?.version ?? 0;

describe('migrations', () => {
  let cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.reverse()) cleanup();
    cleanups = [];
  });
  function databaseFile(): string {
    const { folder, remove } = makeTemporaryFolder();
    cleanups.push(remove);
    return path.join(folder, 'talon.db');
  }
  function rawDatabase(file: string): Database.Database {
    const db = new Database(file);
    cleanups.push(() => db.close());
    return db;
  }

  it('number the migrations in steps that only grow', () => {
    expect(() => checkMigrationOrder(migrations)).not.toThrow();
    const update = () => {};
    expect(() =>
      checkMigrationOrder([
        { version: 20, update },
        { version: 10, update },
      ]),
    ).toThrow(/out of order/);
    expect(() =>
      checkMigrationOrder([
        { version: 10, update },
        { version: 10, update },
      ]),
    ).toThrow(/out of order/);
    expect(() => checkMigrationOrder([{ version: 0, update }])).toThrow(/out of order/);
  });

  it('bring a new file to the latest version, in WAL mode', () => {
    const file = databaseFile();
    openSqliteStore(file).close();
    const db = rawDatabase(file);
    expect(schemaVersionOf(db)).toBe(latest);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
      .pluck()
      .all();
    expect(tables).toEqual(
      expect.arrayContaining([
        'agents',
        'api_keys',
        'audit_events',
        'meta',
        'policies',
        'secret_versions',
        'secrets',
        'users',
        'vaults',
      ]),
    );
    // 0020 keeps two audit indexes: every read appends an entry and pays for each index.
    const auditIndexes = db
      .prepare(
        `SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'audit_events' AND sql IS NOT NULL ORDER BY name`,
      )
      .pluck()
      .all();
    expect(auditIndexes).toEqual(['audit_events_by_actor', 'audit_events_by_vault']);
  });

  it('run each migration once, and a reopened file keeps its data', () => {
    const file = databaseFile();
    const vault = sampleVault();
    const first = openSqliteStore(file);
    first.vaults.insert(vault);
    first.meta.set('setup.completed', 'yes');
    first.close();

    const second = openSqliteStore(file);
    cleanups.push(() => second.close());
    expect(second.vaults.get(vault.id)).toEqual(vault);
    expect(second.meta.get('setup.completed')).toBe('yes');
  });

  it('run only the pending migrations, each recording its version', () => {
    const db = rawDatabase(databaseFile());
    const ran: number[] = [];
    const step = (version: number) => ({ version, update: () => void ran.push(version) });
    migrate(db, [step(10)]);
    expect(schemaVersionOf(db)).toBe(10);
    migrate(db, [step(10), step(20), step(30)]);
    expect(ran).toEqual([10, 20, 30]);
    expect(schemaVersionOf(db)).toBe(30);
    migrate(db, [step(10), step(20), step(30)]);
    expect(ran).toEqual([10, 20, 30]);
  });

  it('roll back a failed migration with its version, keeping the ones before it', () => {
    const db = rawDatabase(databaseFile());
    const failing = {
      version: latest + 10,
      update: (target: Database.Database) => {
        target.exec('CREATE TABLE half_done (id TEXT)');
        throw new Error('disk on fire');
      },
    };
    expect(() => migrate(db, [...migrations, failing])).toThrow('disk on fire');
    expect(schemaVersionOf(db)).toBe(latest);
    expect(db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'`).pluck().get()).toBe(0);
  });

  it('refuse a database written by a newer Talon, and leave it as it was', () => {
    const file = databaseFile();
    openSqliteStore(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${latest + 10}`);
    db.close();

    expect(() => openSqliteStore(file)).toThrow(/written by a newer Talon; upgrade Talon/);
    const after = rawDatabase(file);
    expect(schemaVersionOf(after)).toBe(latest + 10);
  });

  it('report integrity and checkpoint the log', () => {
    const file = databaseFile();
    const store = openSqliteStore(file);
    cleanups.push(() => store.close());
    store.vaults.insert(sampleVault());
    expect(store.integrityCheck()).toBe('ok');
    expect(store.checkpoint()).toBe(true);
  });
});
