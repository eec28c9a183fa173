import { createHmac } from 'node:crypto';
import type { NewAuditEvent } from './store.js';

/** What the first entry links to. */
export const genesisMac: Buffer = Buffer.alloc(32);

/**
 * The MAC that chains an audit entry: it covers the previous entry's MAC and every field of its
 * own, under the audit key the engine derives from the token's HMAC key. Here, next to the stored
 * form, because both the engine and the audit writer thread seal entries with it.
 */
export function chainMac(key: Buffer, row: Omit<NewAuditEvent, 'mac'>): Buffer {
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
