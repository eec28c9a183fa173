import type { AuditEventFields } from './audit-chain.js';
import type { AuditRecord } from './store.js';

/** An audit batch as plain data, the form that crosses to the writer thread. */
export interface AuditBatchData {
  /** The batch's distinct strings, each once. */
  strings: string[];
  /** `fieldsPerEntry` numbers per entry: the time (ms since the epoch), then indices into `strings` (-1: null). */
  numbers: Float64Array;
  details: Record<string, unknown>[];
}

const field = {
  at: 0,
  action: 1,
  actorType: 2,
  actorId: 3,
  vaultId: 4,
  resourceType: 5,
  resourceId: 6,
  path: 7,
  outcome: 8,
  ipAddress: 9,
  countAccessOf: 10,
} as const;
const fieldsPerEntry = 11;
const none = -1;

/**
 * Reads' audit entries, queued to be written together (deferred-audit.ts), packed so that handing
 * a batch to the writer thread is cheap: the ids, paths and names that repeat from entry to entry
 * are stored once per batch and the entries are numbers. Posting plain entry objects cost the
 * reading thread about 2 µs per entry in structured cloning, as much as a read's own decryption.
 */
export class AuditBatch {
  private readonly stringIndex = new Map<string, number>();
  private numbers: Float64Array;
  private count = 0;

  private constructor(
    private readonly strings: string[],
    numbers: Float64Array,
    private readonly detailsOf: Record<string, unknown>[],
  ) {
    this.numbers = numbers;
    this.count = detailsOf.length;
    strings.forEach((value, index) => this.stringIndex.set(value, index));
  }

  static empty(): AuditBatch {
    return new AuditBatch([], new Float64Array(64 * fieldsPerEntry), []);
  }

  /** A batch from its plain form (as received by the writer thread). */
  static from(data: AuditBatchData): AuditBatch {
    return new AuditBatch(data.strings, data.numbers, data.details);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Adds an entry made at `at` (ms since the epoch). `countAccessOf` is the secret whose access
   * counter the entry adds one to; the count it made joins its details as `access_count`.
   */
  add(record: AuditRecord, at: number, countAccessOf?: string): void {
    if ((this.count + 1) * fieldsPerEntry > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    const numbers = this.numbers;
    const at0 = this.count * fieldsPerEntry;
    numbers[at0 + field.at] = at;
    numbers[at0 + field.action] = this.intern(record.action);
    numbers[at0 + field.actorType] = this.intern(record.actor.type);
    numbers[at0 + field.actorId] = this.intern(record.actor.id);
    numbers[at0 + field.vaultId] = this.intern(record.vaultId);
    numbers[at0 + field.resourceType] = this.intern(record.resourceType);
    numbers[at0 + field.resourceId] = this.intern(record.resourceId);
    numbers[at0 + field.path] = this.intern(record.path);
    numbers[at0 + field.outcome] = this.intern(record.outcome);
    numbers[at0 + field.ipAddress] = this.intern(record.ip);
    numbers[at0 + field.countAccessOf] = this.intern(countAccessOf);
    this.detailsOf.push(record.details ?? {});
    this.count += 1;
  }

  /** Entry `index`'s stored fields. */
  event(index: number): AuditEventFields {
    const at0 = index * fieldsPerEntry;
    return {
      action: this.text(at0 + field.action)!,
      actorType: this.text(at0 + field.actorType)!,
      actorId: this.text(at0 + field.actorId),
      vaultId: this.text(at0 + field.vaultId),
      resourceType: this.text(at0 + field.resourceType),
      resourceId: this.text(at0 + field.resourceId),
      path: this.text(at0 + field.path),
      outcome: this.text(at0 + field.outcome) as AuditEventFields['outcome'],
      ipAddress: this.text(at0 + field.ipAddress),
      createdAt: new Date(this.numbers[at0 + field.at]!).toISOString(),
    };
  }

  /** Entry `index`'s details; the writer adds `access_count` to them (again, if written again). */
  details(index: number): Record<string, unknown> {
    return this.detailsOf[index]!;
  }

  countAccessOf(index: number): string | undefined {
    return this.text(index * fieldsPerEntry + field.countAccessOf) ?? undefined;
  }

  /** How many entries count an access of each secret. */
  accessesBySecret(): Map<string, number> {
    const reads = new Map<string, number>();
    for (let index = 0; index < this.count; index += 1) {
      const secretId = this.countAccessOf(index);
      if (secretId !== undefined) reads.set(secretId, (reads.get(secretId) ?? 0) + 1);
    }
    return reads;
  }

  /** The plain form, with its own copy of the numbers (the batch stays usable). */
  data(): AuditBatchData {
    return {
      strings: this.strings,
      numbers: this.numbers.slice(0, this.count * fieldsPerEntry),
      details: this.detailsOf,
    };
  }

  private intern(value: string | null | undefined): number {
    if (value === null || value === undefined) return none;
    let index = this.stringIndex.get(value);
    if (index === undefined) {
      index = this.strings.length;
      this.strings.push(value);
      this.stringIndex.set(value, index);
    }
    return index;
  }

  private text(position: number): string | null {
    const index = this.numbers[position]!;
    return index === none ? null : this.strings[index]!;
  }
}
