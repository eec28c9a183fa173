import { chainedRow, genesisMac } from './audit-chain.js';
import type { AuditBatch } from './audit-batch.js';
import type { AuditRepository, NewAuditEvent, SecretRepository } from './store.js';

/**
 * Writes a batch of deferred entries inside the caller's write transaction: each secret's reads
 * in one counter update, then the entries chained after the current head under `chainKey`, each
 * recording its own `access_count` as if counted one by one in order.
 */
export function writeDeferredAudit(
  repositories: { audit: AuditRepository; secrets: Pick<SecretRepository, 'addAccessCount'> },
  batch: AuditBatch,
  chainKey: Buffer,
): void {
  const nextCount = countAccesses(repositories.secrets, batch);
  let prevMac = repositories.audit.last()?.mac ?? genesisMac;
  const rows: NewAuditEvent[] = [];
  for (let index = 0; index < batch.size; index += 1) {
    const details = batch.detailsOf(index);
    const countAccessOf = batch.countAccessOf(index);
    if (countAccessOf !== undefined) {
      const count = nextCount.get(countAccessOf);
      if (count !== undefined) nextCount.set(countAccessOf, count + 1);
      details.access_count = count;
    }
    const row = chainedRow(batch.event(index), JSON.stringify(details), prevMac, chainKey);
    rows.push(row);
    prevMac = row.mac;
  }
  repositories.audit.appendMany(rows);
}

/** Adds each secret's reads to its counter, one update per secret; returns the count each secret's first read made. */
function countAccesses(
  secrets: Pick<SecretRepository, 'addAccessCount'>,
  batch: AuditBatch,
): Map<string, number> {
  const first = new Map<string, number>();
  for (const [secretId, count] of batch.accessesBySecret()) {
    const total = secrets.addAccessCount(secretId, count);
    if (total !== undefined) first.set(secretId, total - count + 1);
  }
  return first;
}
