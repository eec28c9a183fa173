import type { AuditEventFields } from './audit-chain.js';
import type { AuditRecord } from './store.js';

/** An audit batch as plain data, the form that crosses to the writer thread. */
export interface AuditBatchData {
  /** The batch's distinct strings, each once. */
  strings: string[];
  /**
   * `fieldsPerEntry` numbers per entry: the time (ms since the epoch), indices into `strings` (-1:
   * null), and where the entry's details start and end in `details`.
   */
  entries: Float64Array;
  /** Three numbers per detail: its key's index in `strings`, the kind of its value, the value. */
  details: Float64Array;
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
  detailsStart: 11,
  detailsEnd: 12,
} as const;
const fieldsPerEntry = 13;
const numbersPerDetail = 3;
const none = -1;
/** How a detail's value is kept: a number as is, a string by index, anything else as JSON by index. */
const kind = { number: 0, string: 1, json: 2 } as const;

/** A growable run of numbers. */
class Numbers {
  constructor(
    public values: Float64Array,
    public length = values.length,
  ) {}

  /** Makes room for `count` more and returns where they start. */
  reserve(count: number): number {
    const start = this.length;
    if (start + count > this.values.length) {
      const grown = new Float64Array(Math.max(this.values.length * 2, start + count));
      grown.set(this.values.subarray(0, start));
      this.values = grown;
    }
    this.length += count;
    return start;
  }

  copy(): Float64Array {
    return this.values.slice(0, this.length);
  }
}

/**
 * Reads' audit entries, queued to be written together (deferred-audit.ts), packed so that handing
 * a batch to the writer thread is cheap: the ids, paths and names that repeat from entry to entry
 * are stored once per batch and everything else is numbers. Posting plain entry objects cost the
 * reading thread about 2 µs per entry in structured cloning, as much as a read's own decryption,
 * and kept them alive (and the garbage collector busy) until the batch was written.
 */
export class AuditBatch {
  private readonly stringIndex = new Map<string, number>();
  /** Each field's string of the entry before and its index: consecutive reads mostly repeat them. */
  private readonly previous: (string | null)[] = new Array<string | null>(fieldsPerEntry).fill(null);
  private readonly previousIndex: number[] = new Array<number>(fieldsPerEntry).fill(none);
  private readonly entries: Numbers;
  private readonly details: Numbers;

  private constructor(
    private readonly strings: string[],
    entries: Numbers,
    details: Numbers,
  ) {
    this.entries = entries;
    this.details = details;
    strings.forEach((value, index) => this.stringIndex.set(value, index));
  }

  static empty(): AuditBatch {
    return new AuditBatch(
      [],
      new Numbers(new Float64Array(64 * fieldsPerEntry), 0),
      new Numbers(new Float64Array(256), 0),
    );
  }

  /** A batch from its plain form (as received by the writer thread). */
  static from(data: AuditBatchData): AuditBatch {
    return new AuditBatch(data.strings, new Numbers(data.entries), new Numbers(data.details));
  }

  get size(): number {
    return this.entries.length / fieldsPerEntry;
  }

  /**
   * Adds an entry made at `at` (ms since the epoch). `countAccessOf` is the secret whose access
   * counter the entry adds one to; the count it made joins its details as `access_count`.
   */
  add(record: AuditRecord, at: number, countAccessOf?: string): void {
    const start = this.entries.reserve(fieldsPerEntry);
    const entries = this.entries.values;
    entries[start + field.at] = at;
    entries[start + field.action] = this.intern(field.action, record.action);
    entries[start + field.actorType] = this.intern(field.actorType, record.actor.type);
    entries[start + field.actorId] = this.intern(field.actorId, record.actor.id);
    entries[start + field.vaultId] = this.intern(field.vaultId, record.vaultId);
    entries[start + field.resourceType] = this.intern(field.resourceType, record.resourceType);
    entries[start + field.resourceId] = this.intern(field.resourceId, record.resourceId);
    entries[start + field.path] = this.intern(field.path, record.path);
    entries[start + field.outcome] = this.intern(field.outcome, record.outcome);
    entries[start + field.ipAddress] = this.intern(field.ipAddress, record.ip);
    entries[start + field.countAccessOf] = this.intern(field.countAccessOf, countAccessOf);
    entries[start + field.detailsStart] = this.details.length;
    for (const key in record.details) this.addDetail(key, record.details[key]);
    entries[start + field.detailsEnd] = this.details.length;
  }

  /** Entry `index`'s stored fields. */
  event(index: number): AuditEventFields {
    const start = index * fieldsPerEntry;
    return {
      action: this.text(start + field.action)!,
      actorType: this.text(start + field.actorType)!,
      actorId: this.text(start + field.actorId),
      vaultId: this.text(start + field.vaultId),
      resourceType: this.text(start + field.resourceType),
      resourceId: this.text(start + field.resourceId),
      path: this.text(start + field.path),
      outcome: this.text(start + field.outcome) as AuditEventFields['outcome'],
      ipAddress: this.text(start + field.ipAddress),
      createdAt: new Date(this.entries.values[start + field.at]!).toISOString(),
    };
  }

  /** Entry `index`'s details, as a new object each time. */
  detailsOf(index: number): Record<string, unknown> {
    const start = index * fieldsPerEntry;
    const details: Record<string, unknown> = {};
    const values = this.details.values;
    const end = this.entries.values[start + field.detailsEnd]!;
    for (let at = this.entries.values[start + field.detailsStart]!; at < end; at += numbersPerDetail) {
      const key = this.strings[values[at]!]!;
      const value = values[at + 2]!;
      switch (values[at + 1]) {
        case kind.number:
          details[key] = value;
          break;
        case kind.string:
          details[key] = this.strings[value];
          break;
        default:
          details[key] = JSON.parse(this.strings[value]!) as unknown;
      }
    }
    return details;
  }

  countAccessOf(index: number): string | undefined {
    return this.text(index * fieldsPerEntry + field.countAccessOf) ?? undefined;
  }

  /** How many entries count an access of each secret. */
  accessesBySecret(): Map<string, number> {
    const reads = new Map<string, number>();
    for (let index = 0; index < this.size; index += 1) {
      const secretId = this.countAccessOf(index);
      if (secretId !== undefined) reads.set(secretId, (reads.get(secretId) ?? 0) + 1);
    }
    return reads;
  }

  /** The plain form, with its own copy of the numbers (the batch stays usable). */
  data(): AuditBatchData {
    return { strings: this.strings, entries: this.entries.copy(), details: this.details.copy() };
  }

  private addDetail(key: string, value: unknown): void {
    let valueKind: number = kind.number;
    let packed = 0;
    if (typeof value === 'number' && Number.isFinite(value)) packed = value;
    else if (typeof value === 'string') [valueKind, packed] = [kind.string, this.indexOf(value)];
    else {
      const json = JSON.stringify(value) as string | undefined;
      if (json === undefined) return; // undefined, a function: JSON leaves the key out
      [valueKind, packed] = [kind.json, this.indexOf(json)];
    }
    const at = this.details.reserve(numbersPerDetail);
    const details = this.details.values;
    details[at] = this.indexOf(key);
    details[at + 1] = valueKind;
    details[at + 2] = packed;
  }

  private intern(position: number, value: string | null | undefined): number {
    if (value === null || value === undefined) return none;
    if (value === this.previous[position]) return this.previousIndex[position]!;
    const index = this.indexOf(value);
    this.previous[position] = value;
    this.previousIndex[position] = index;
    return index;
  }

  private indexOf(value: string): number {
    let index = this.stringIndex.get(value);
    if (index === undefined) {
      index = this.strings.length;
      this.strings.push(value);
      this.stringIndex.set(value, index);
    }
    return index;
  }

  private text(position: number): string | null {
    const index = this.entries.values[position]!;
    return index === none ? null : this.strings[index]!;
  }
}
