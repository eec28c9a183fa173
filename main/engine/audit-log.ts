import { createHmac, timingSafeEqual } from 'node:crypto';
import { AuditBatch } from '../store/audit-batch.js';
import { auditEventFields, chainMac, chainedRow, genesisMac } from '../store/audit-chain.js';
import type { AuditEventRow, AuditFilter, AuditRecord, NewAuditEvent, Store } from '../store/store.js';
import type { KeyRing } from './key-ring.js';

/**
 * The audit log: every access, change, denial and key exchange, appended in the same
 * transaction as the change. Entries are chained: each one's MAC covers the previous MAC and its
 * own fields, under the audit subkey derived from the token's HMAC key, so changing, removing or
 * reordering a row breaks the chain at that row. Values never enter it.
 */
export type AuditEntry = AuditRecord;

export type AuditVerification =
  { ok: true; checked: number } | { ok: false; checked: number; brokenAt: number; reason: string };

/** Deferred entries handed over at once when this many are queued. */
const maxDeferred = 512;
const retryDelayMs = 100;
/**
 * How long read entries wait to be handed over together. One commit costs about as much as a
 * REST read's whole engine work, so under load a batch per few milliseconds, not per request.
 */
const deferredFlushMs = 5;

const sealedHeadKey = 'audit.sealed_head';

function headSeal(key: Buffer, seq: number, mac: Buffer): Buffer {
  return createHmac('sha256', key).update(`talon/audit-head/v1|${seq}|`).update(mac).digest();
}

export class AuditLog {
  /** Batches given back by the writer, oldest first; written before `pending`. */
  private returned: AuditBatch[] = [];
  private pending = AuditBatch.empty();
  private flushScheduled = false;
  private retryScheduled = false;

  constructor(
    private readonly store: Store,
    private readonly keyRing: KeyRing,
    private readonly now: () => Date,
  ) {}

  /** Append one entry (after any deferred ones); joins the caller's transaction or makes its own. */
  append(entry: AuditEntry): AuditEventRow {
    const key = this.keyRing.subkey('audit');
    return this.store.transaction(() => {
      this.writePendingNow(key);
      return this.insert(key, entry, this.now().toISOString(), this.head());
    });
  }

  /**
   * Record a read's entry a moment later, batched with other reads and written away from the
   * request (the store's `deferredAudit`: on SQLite a writer thread), so a read costs no commit of
   * its own. `countAccessOf` is the secret whose access counter the read adds one to; the count it
   * made joins the entry's details as `access_count`. Entries keep the time of the read; `append`,
   * `flush`, `verify` and `query` write pending entries first, and lock flushes them. A crash of
   * Talon can lose the entries of the last few milliseconds of reads, never those of a change.
   */
  defer(entry: AuditEntry, countAccessOf?: string): void {
    this.keyRing.subkey('audit'); // refuse while locked, as append does
    this.pending.add(entry, this.now().getTime(), countAccessOf);
    if (this.pending.size >= maxDeferred) this.handOver();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setTimeout(() => {
        this.flushScheduled = false;
        this.handOver();
      }, deferredFlushMs).unref();
    }
  }

  /** Write every deferred entry now: those handed over, then those still queued. */
  flush(): void {
    this.store.deferredAudit.settle();
    if (!this.hasPending()) return;
    const key = this.keyRing.subkey('audit');
    this.store.transaction(() => this.writePendingNow(key), { durable: false });
  }

  /**
   * Before access counts are shown: write what is batched if the store can. Showing them is not
   * refused when it cannot (a full disk): the entries stay queued and are retried.
   */
  flushForCounts(): void {
    try {
      this.flush();
    } catch {
      this.retry([]);
    }
  }

  private hasPending(): boolean {
    return this.returned.length > 0 || this.pending.size > 0;
  }

  /** Every queued batch, oldest first; the queue is left empty. */
  private takePending(): AuditBatch[] {
    const batches = this.pending.size > 0 ? [...this.returned, this.pending] : this.returned;
    this.returned = [];
    this.pending = AuditBatch.empty();
    return batches;
  }

  /** Hand the queued entries to the store's writer; a batch it gives back is queued again and retried. */
  private handOver(): void {
    const batches = this.takePending();
    for (const [index, batch] of batches.entries()) {
      try {
        this.store.deferredAudit.writeLater(batch, this.keyRing.subkey('audit'), (failed) =>
          this.retry([failed]),
        );
      } catch {
        // Locked meanwhile (lock flushed what it could) or the writer could not start: keep them.
        this.retry(batches.slice(index));
        return;
      }
    }
  }

  private retry(batches: AuditBatch[]): void {
    this.returned = batches.concat(this.returned);
    if (this.retryScheduled) return;
    this.retryScheduled = true;
    setTimeout(() => {
      this.retryScheduled = false;
      try {
        this.flush();
      } catch {
        // The store refused (busy, disk full, locked): the entries stay queued for the next try.
        this.retry([]);
      }
    }, retryDelayMs).unref();
  }

  /** Inside a transaction: write the queued entries; if the transaction fails they are queued again. */
  private writePendingNow(key: Buffer): void {
    if (!this.hasPending()) return;
    const batches = this.takePending();
    try {
      for (const batch of batches) this.store.deferredAudit.writeNow(batch, key);
    } catch (error) {
      this.returned = batches.concat(this.returned);
      throw error;
    }
  }

  /** The MAC of the newest entry, which the next one links to. Read inside the writing transaction. */
  private head(): Buffer {
    return this.store.audit.last()?.mac ?? genesisMac;
  }

  private insert(key: Buffer, entry: AuditEntry, createdAt: string, prevMac: Buffer): AuditEventRow {
    const row = this.row(key, entry, createdAt, prevMac);
    const seq = this.store.audit.append(row);
    return { ...row, seq };
  }

  /** The stored form of an entry, chained to `prevMac`. */
  private row(key: Buffer, entry: AuditEntry, createdAt: string, prevMac: Buffer): NewAuditEvent {
    return chainedRow(auditEventFields(entry, createdAt), JSON.stringify(entry.details ?? {}), prevMac, key);
  }

  /**
   * Walk the whole chain; report the first entry whose link or MAC does not hold, or, when the
   * head sealed at the last lock is missing or replaced, where the log was cut.
   */
  verify(): AuditVerification {
    this.flush();
    const key = this.keyRing.subkey('audit');
    const head = this.sealedHead(key);
    if (head && 'problem' in head) return { ok: false, checked: 0, brokenAt: 0, reason: head.problem };
    const sealed = head;
    let previous: Buffer = genesisMac;
    let lastSeq = 0;
    let sealedFound = false;
    let checked = 0;
    for (const batch of this.store.audit.iterate({ batchSize: 1000 })) {
      for (const row of batch) {
        if (!row.prevMac.equals(previous)) {
          return {
            ok: false,
            checked,
            brokenAt: row.seq,
            reason: 'an entry before it was removed or changed',
          };
        }
        const expected = chainMac(key, row);
        if (row.mac.length !== expected.length || !timingSafeEqual(row.mac, expected)) {
          return { ok: false, checked, brokenAt: row.seq, reason: 'the entry was changed' };
        }
        if (sealed && !sealedFound && row.seq > sealed.seq) return cut();
        if (sealed && row.seq === sealed.seq) {
          if (!row.mac.equals(sealed.mac)) {
            return {
              ok: false,
              checked,
              brokenAt: row.seq,
              reason: 'the entry sealed at the last lock was replaced',
            };
          }
          sealedFound = true;
        }
        previous = row.mac;
        lastSeq = row.seq;
        checked += 1;
      }
    }
    return sealed && !sealedFound ? cut() : { ok: true, checked };

    /** The sealed head is missing: the log was cut after the last entry still in place. */
    function cut(): AuditVerification {
      return {
        ok: false,
        checked,
        brokenAt: lastSeq + 1,
        reason: `entries up to ${sealed?.seq}, the head sealed at the last lock, were removed`,
      };
    }
  }

  /**
   * Seal the chain head (its position and MAC) under the audit subkey, which only the token's
   * HMAC key yields; lock calls this. Verification then notices entries cut from the end of the
   * log, which the chain alone cannot show.
   */
  sealHead(): void {
    this.flush();
    const key = this.keyRing.subkey('audit');
    const head = this.store.audit.last();
    if (!head) return;
    const sealed = {
      seq: head.seq,
      mac: head.mac.toString('hex'),
      seal: headSeal(key, head.seq, head.mac).toString('hex'),
    };
    this.store.meta.set(sealedHeadKey, JSON.stringify(sealed));
  }

  /** The sealed head, checked against its seal; undefined when none was sealed yet. */
  private sealedHead(key: Buffer): { seq: number; mac: Buffer } | { problem: string } | undefined {
    const stored = this.store.meta.get(sealedHeadKey);
    if (stored === undefined) return undefined;
    try {
      const parsed = JSON.parse(stored) as { seq: number; mac: string; seal: string };
      const mac = Buffer.from(parsed.mac, 'hex');
      const seal = Buffer.from(parsed.seal, 'hex');
      const expected = headSeal(key, parsed.seq, mac);
      if (seal.length === expected.length && timingSafeEqual(seal, expected)) return { seq: parsed.seq, mac };
    } catch {
      // an unreadable seal is as bad as a forged one
    }
    return { problem: 'the head sealed at the last lock was changed' };
  }

  query(filter: AuditFilter & { limit: number; offset?: number }): {
    events: AuditEventRow[];
    count: number;
  } {
    this.flush();
    return { events: this.store.audit.query(filter), count: this.store.audit.count(filter) };
  }
}
