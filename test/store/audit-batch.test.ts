import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditBatch } from '../../main/store/audit-batch.js';
import { auditEventFields } from '../../main/store/audit-chain.js';
import type { AuditRecord } from '../../main/store/store.js';

// Few distinct strings, so that entries share them as reads of one secret do.
const text = fc.constantFrom('secret.read', 'vault-1', 'api/key', 'ünïcode/päth', '', '127.0.0.1', 'agent-1');
const optional = fc.option(text, { nil: undefined });
const nullable = fc.oneof(optional, fc.constant(null));

const record: fc.Arbitrary<AuditRecord> = fc.record({
  action: text,
  actor: fc.record({
    type: fc.constantFrom('user' as const, 'agent' as const, 'system' as const, 'anonymous' as const),
    id: fc.oneof(text, fc.constant(null)),
  }),
  outcome: fc.constantFrom('success' as const, 'denied' as const, 'error' as const),
  vaultId: nullable,
  resourceType: nullable,
  resourceId: nullable,
  path: nullable,
  details: fc.option(
    fc.dictionary(
      fc.constantFrom('version', 'via', 'request_id', 'reason', '2', 'nested'),
      fc.oneof(
        fc.integer(),
        fc.double(),
        text,
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.array(fc.oneof(fc.integer(), text)),
        fc.record({ inner: text }),
      ),
    ),
    { nil: undefined },
  ),
  ip: nullable,
});
const read: AuditRecord = { action: 'secret.read', actor: { type: 'agent', id: 'a' }, outcome: 'success' };
const entry = fc.tuple(record, fc.integer({ min: 0, max: 4_102_444_800_000 }), optional);

describe('an audit batch', () => {
  it('gives back every field of every entry, in order, after crossing to another thread', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 200 }), (entries) => {
        const built = AuditBatch.empty();
        for (const [made, at, countAccessOf] of entries) built.add(made, at, countAccessOf);
        // structuredClone is what postMessage does to it.
        const received = AuditBatch.from(structuredClone(built.data()));
        expect(received.size).toBe(entries.length);
        entries.forEach(([made, at, countAccessOf], index) => {
          for (const batch of [built, received]) {
            expect(batch.event(index)).toEqual(auditEventFields(made, new Date(at).toISOString()));
            // The same JSON text as the details themselves make, key order included.
            expect(JSON.stringify(batch.detailsOf(index))).toBe(JSON.stringify(made.details ?? {}));
            expect(batch.countAccessOf(index)).toBe(countAccessOf);
          }
        });
      }),
    );
  });

  it('counts the accesses it carries per secret', () => {
    const batch = AuditBatch.empty();
    for (const secretId of ['s1', 's2', 's1', undefined, 's1']) batch.add(read, 0, secretId);
    expect([...batch.accessesBySecret()]).toEqual([
      ['s1', 3],
      ['s2', 1],
    ]);
  });

  it('keeps its own numbers when handed over, so a batch given back is still whole', () => {
    const batch = AuditBatch.empty();
    batch.add({ ...read, details: { version: 2 } }, 1_000, 's1');
    const handedOver = batch.data();
    handedOver.entries.fill(-1);
    handedOver.details.fill(-1);
    expect(batch.event(0).createdAt).toBe(new Date(1_000).toISOString());
    expect(batch.countAccessOf(0)).toBe('s1');
    expect(batch.detailsOf(0)).toEqual({ version: 2 });
  });
});
