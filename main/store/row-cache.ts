import { performance } from 'node:perf_hooks';
import type { Database, Statement } from 'better-sqlite3';

/**
 * How stale the cache may be with respect to ANOTHER connection's commits. Reading the epoch
 * costs about as much as the lookup it saves (~5 µs here), so it is read at most once per this
 * many milliseconds. This process's own writes are never stale (they drop entries as they
 * happen), and a transaction always reads the database itself.
 */
export const otherConnectionsSeenWithinMs = 1;

/**
 * Rows that every request reads (its vault, its secret and that secret's current version, the
 * caller's API key, agent or user, the caller's policies), kept in memory so that a read costs
 * no SQLite statement for them. DESIGN's "one owner": one process owns the database, so this
 * cache sees every write but those of an occasional second connection (offline maintenance, a
 * second process in tests). Two rules keep it true:
 *
 * - Own writes: every repository method that writes a cached table drops what it
 *   changes, cascades included, even inside a transaction that may still roll back (a dropped
 *   entry is only read again). A write to these tables that bypasses their repository would
 *   leave the cache stale; there is none, and there must be none.
 * - Other connections: triggers move `row_cache_epoch` at every change to a cached table, from
 *   any connection (migration 0070). The epoch is read before the cache is used (at most every
 *   `otherConnectionsSeenWithinMs`); when it moved, every entry is dropped. The owner's own write
 *   transactions move it too, so they note it at their start (dropping everything if another
 *   connection wrote since) and at their end (`ownWriteStarts`, `ownWriteEnds`). The audit writer
 *   thread's connection writes only audit entries and access counters, which move no epoch: a
 *   secret's cached `accessCount` is refreshed when its batch is answered (`forgetRow`), and
 *   another connection's access counting shows only once something else drops the row. Only that
 *   thread, offline maintenance and tests open a second connection: `talon.lock` refuses a second
 *   Talon on one data folder.
 *
 * Inside a transaction the cache is neither read nor filled: the transaction must see its own
 * snapshot, and what it reads could be rolled back. Rows are frozen, since every caller shares
 * them; a caller that wants to change a row builds a new one.
 */
export class RowCache {
  private readonly epoch: Statement<[], number>;
  private seenEpoch: number;
  /** When the epoch was last read (performance.now()). */
  private checkedAt = Number.NEGATIVE_INFINITY;
  private readonly tables: CachedRows<unknown>[] = [];

  constructor(private readonly db: Database) {
    this.epoch = db.prepare<[], number>('SELECT epoch FROM row_cache_epoch').pluck();
    this.seenEpoch = this.epoch.get()!;
  }

  /** A table of cached rows, at most `maxEntries` (the oldest entry leaves first). */
  rows<Row>(maxEntries: number): CachedRows<Row> {
    const rows = new CachedRows<Row>(this, maxEntries);
    this.tables.push(rows as CachedRows<unknown>);
    return rows;
  }

  /** Whether cached rows may be used now; drops them all when another connection wrote. */
  usable(): boolean {
    if (this.db.inTransaction) return false;
    const now = performance.now();
    if (now - this.checkedAt < otherConnectionsSeenWithinMs) return true;
    this.checkedAt = now;
    this.noteEpoch();
    return true;
  }

  /** At the start of one of the owner's write transactions: drops everything if another connection wrote since. */
  ownWriteStarts(): void {
    this.noteEpoch();
  }

  /** At the end of one of the owner's write transactions, before it commits: its own changes are no news. */
  ownWriteEnds(): void {
    this.seenEpoch = this.epoch.get()!;
  }

  /** Read the epoch again at the next lookup (after a transaction: others may have written before it). */
  recheck(): void {
    this.checkedAt = Number.NEGATIVE_INFINITY;
  }

  private noteEpoch(): void {
    const epoch = this.epoch.get()!;
    if (epoch !== this.seenEpoch) {
      this.seenEpoch = epoch;
      this.clear();
    }
  }

  clear(): void {
    for (const table of this.tables) table.clear();
  }
}

export class CachedRows<Row> {
  private readonly entries = new Map<string, Row>();

  constructor(
    private readonly cache: RowCache,
    private readonly maxEntries: number,
  ) {}

  /**
   * The cached row for `key`, else `load()`'s, kept when found and `keep` allows. Misses are not
   * remembered.
   */
  get(key: string, load: () => Row | undefined, keep?: (row: Row) => boolean): Row | undefined {
    if (!this.cache.usable()) return load();
    const cached = this.entries.get(key);
    if (cached !== undefined) return cached;
    const row = load();
    if (row !== undefined && (keep === undefined || keep(row))) this.set(key, row);
    return row;
  }

  /**
   * The cached row, if any, without asking whether the cache may be used: only after
   * `RowCache.usable()` said so, in the same synchronous step (a lookup that peeks at two tables
   * asks once; asking costs as much as the lookups).
   */
  peek(key: string): Row | undefined {
    return this.entries.get(key);
  }

  set(key: string, row: Row): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, Object.freeze(row));
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
