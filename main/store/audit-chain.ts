import { createHmac } from 'node:crypto';
import { newId } from './ids.js';
import type { AuditRecord, NewAuditEvent } from './store.js';

/** An entry's stored fields but for its id, details and chain MACs. */
export type AuditEventFields = Omit<NewAuditEvent, 'id' | 'detailsJson' | 'prevMac' | 'mac'>;

/** The stored fields of a record made at `createdAt`. */
export function auditEventFields(record: AuditRecord, createdAt: string): AuditEventFields {
  return {
    action: record.action,
    actorType: record.actor.type,
    actorId: record.actor.id,
    vaultId: record.vaultId ?? null,
    resourceType: record.resourceType ?? null,
    resourceId: record.resourceId ?? null,
    path: record.path ?? null,
    outcome: record.outcome,
    ipAddress: record.ip ?? null,
    createdAt,
  };
}

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

const noMacYet = Buffer.alloc(0);

/**
 * The stored form of an entry, with a new id, chained to `prevMac` under `key`. Built field by
 * field: the audit writer thread makes one per read, and a spread made it several times slower.
 */
export function chainedRow(
  event: AuditEventFields,
  detailsJson: string,
  prevMac: Buffer,
  key: Buffer,
): NewAuditEvent {
  const row: NewAuditEvent = {
    id: newId(),
    action: event.action,
    actorType: event.actorType,
    actorId: event.actorId,
    vaultId: event.vaultId,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    path: event.path,
    outcome: event.outcome,
    detailsJson,
    ipAddress: event.ipAddress,
    createdAt: event.createdAt,
    prevMac,
    mac: noMacYet,
  };
  row.mac = chainMac(key, row);
  return row;
}
