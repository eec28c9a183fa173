import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEventRow, AuditFilter, AuditOutcome, NewAuditEvent, Store } from '../store/store.js';
import { newId } from './ids.js';
import type { KeyRing } from './key-ring.js';

/**
 * The audit log: every access, change, denial and key exchange, appended in the same
 * transaction as the change. Entries are chained: each one's MAC covers the previous MAC and its
 * own fields, under the audit subkey derived from the token's HMAC key, so changing, removing or
 * reordering a row breaks the chain at that row. Values never enter it.
 */
export interface AuditEntry {
  action: string;
  actor: { type: 'user' | 'agent' | 'system' | 'anonymous'; id: string | null };
  outcome: AuditOutcome;
  vaultId?: string | null;
  resourceType?: string | null;
  resourceId?: string | null;
  path?: string | null;
  /** Request context and outcome details; never a value or a credential. */
  details?: Record<string, unknown>;
  ip?: string | null;
}

export type AuditVerification =
  { ok: true; checked: number } | { ok: false; checked: number; brokenAt: number; reason: string };

const genesis: Buffer = Buffer.alloc(32);

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly keyRing: KeyRing,
    private readonly now: () => Date,
  ) {}

  /** Append one entry; joins the caller's transaction or makes its own. */
  append(entry: AuditEntry): AuditEventRow {
    const key = this.keyRing.subkey('audit');
    return this.store.transaction(() => {
      const prevMac = this.store.audit.last()?.mac ?? genesis;
      const row: NewAuditEvent = {
        id: newId(),
        action: entry.action,
        actorType: entry.actor.type,
        actorId: entry.actor.id,
        vaultId: entry.vaultId ?? null,
        resourceType: entry.resourceType ?? null,
        resourceId: entry.resourceId ?? null,
        path: entry.path ?? null,
        outcome: entry.outcome,
        detailsJson: JSON.stringify(entry.details ?? {}),
        ipAddress: entry.ip ?? null,
        createdAt: this.now().toISOString(),
        prevMac,
        mac: Buffer.alloc(0),
      };
      row.mac = chainMac(key, row);
      const seq = this.store.audit.append(row);
      return { ...row, seq };
    });
  }

  /** Walk the whole chain; report the first entry whose link or MAC does not hold. */
  verify(): AuditVerification {
    const key = this.keyRing.subkey('audit');
    let previous: Buffer = genesis;
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
        previous = row.mac;
        checked += 1;
      }
    }
    return { ok: true, checked };
  }

  query(filter: AuditFilter & { limit: number; offset?: number }): {
    events: AuditEventRow[];
    count: number;
  } {
    return { events: this.store.audit.query(filter), count: this.store.audit.count(filter) };
  }
}

function chainMac(key: Buffer, row: Omit<NewAuditEvent, 'mac'>): Buffer {
  const fields = [
    row.id,
    row.action,
    row.actorType,
    row.actorId,
    row.vaultId,
    row.resourceType,
    row.resourceId,
    row.path,
    row.outcome,
    row.detailsJson,
    row.ipAddress,
    row.createdAt,
  ];
  return createHmac('sha256', key).update(row.prevMac).update(JSON.stringify(fields)).digest();
}
