/**
 * What Talon keeps on disk, as the engine sees it: one row type per table and one repository
 * interface per table. The engine depends only on this file and on the stored forms next to it
 * that it builds (`audit-batch.ts`, `audit-chain.ts`, `ids.ts`); `sqlite-store.ts` implements it
 * on better-sqlite3, and a PostgreSQL store would be one more implementation.
 *
 * Conventions (the caller makes these, the store only keeps them):
 * - ids are UUID strings; times are ISO-8601 UTC strings, compared as text, so always write them
 *   in one format (`new Date().toISOString()`);
 * - `...Json` fields hold JSON text; the store checks only that it is valid JSON, the engine parses
 *   it with its own schemas;
 * - binary fields (ciphertext, wrapped keys, hashes, MACs) are Buffers.
 *
 * Every method is synchronous. Writes that must agree go inside `Store.transaction`.
 */

import type { AuditBatch } from './audit-batch.js';

export type PrincipalType = 'user' | 'agent';
export type UserRole = 'owner' | 'member';
export type PolicyEffect = 'allow' | 'deny';
export type AuditOutcome = 'success' | 'denied' | 'error';

export interface UserRow {
  id: string;
  /** Unique without regard to ASCII case: `Ann@x.io` and `ann@x.io` are one user. */
  email: string;
  displayName: string;
  role: UserRole;
  passwordHash: string | null;
  totpJson: string | null;
  isActive: boolean;
  createdAt: string;
}

export interface AgentRow {
  id: string;
  name: string;
  description: string | null;
  scopesJson: string;
  vaultIdsJson: string;
  cryptoProxyEnabled: boolean;
  tokenTtlSeconds: number | null;
  expiresAt: string | null;
  isActive: boolean;
  /** The id of the user who created the agent. */
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  lastActiveAt: string | null;
  guardrailsJson: string | null;
}

export interface ApiKeyRow {
  id: string;
  principalType: PrincipalType;
  principalId: string;
  name: string;
  /** The visible start of the key (`ocv_…`, `1ck_…`), for people to tell keys apart. */
  prefix: string;
  /** The HMAC of the whole key; the key itself is never stored. */
  keyHash: Buffer;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface VaultRow {
  id: string;
  name: string;
  description: string | null;
  ownerType: PrincipalType;
  ownerId: string;
  strictMode: boolean;
  /** The vault key, wrapped by the token's key-encryption key. */
  wrappedKey: Buffer;
  createdAt: string;
}

export interface SecretRow {
  id: string;
  vaultId: string;
  path: string;
  type: string;
  metadataJson: string;
  expiresAt: string | null;
  /** 0 means unlimited. */
  maxAccessCount: number;
  accessCount: number;
  currentVersion: number;
  createdByType: PrincipalType;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

/** A new secret starts with no accesses and not deleted. */
export type NewSecret = Omit<SecretRow, 'accessCount' | 'deletedAt'>;

export interface SecretVersionRow {
  secretId: string;
  version: number;
  type: string;
  /** AES-256-GCM ciphertext and tag of the value; the AAD binds vault id, path, version, type. */
  ciphertext: Buffer;
  /** The data key, wrapped by the vault key (session mode) or the token's KEK (strict mode). */
  wrappedDek: Buffer;
  /** Length of the plain value in bytes. */
  valueLength: number;
  createdByType: PrincipalType;
  createdBy: string;
  createdAt: string;
  disabledAt: string | null;
}

/** A version as listed: everything but the encrypted bytes. */
export type SecretVersionSummary = Omit<SecretVersionRow, 'ciphertext' | 'wrappedDek'>;

/** The fields of a secret that a new version or an edit may change. */
export type SecretMetaChange = Pick<
  SecretRow,
  | 'id'
  | 'type'
  | 'metadataJson'
  | 'expiresAt'
  | 'maxAccessCount'
  | 'accessCount'
  | 'currentVersion'
  | 'updatedAt'
>;

export interface PolicyRow {
  id: string;
  vaultId: string;
  principalType: PrincipalType;
  principalId: string;
  /** Glob over secret paths: `*` one segment, `**` any depth. */
  secretPathPattern: string;
  permissionsJson: string;
  conditionsJson: string | null;
  effect: PolicyEffect;
  priority: number;
  requireApproval: boolean;
  expiresAt: string | null;
  createdByType: PrincipalType;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface AuditEventRow {
  /** Position in the chain, given by the store; strictly increasing. */
  seq: number;
  id: string;
  action: string;
  actorType: string;
  actorId: string | null;
  vaultId: string | null;
  resourceType: string | null;
  resourceId: string | null;
  path: string | null;
  outcome: AuditOutcome;
  detailsJson: string;
  ipAddress: string | null;
  createdAt: string;
  /** The previous entry's `mac` (the chain head), as the caller read it. */
  prevMac: Buffer;
  mac: Buffer;
}

export type NewAuditEvent = Omit<AuditEventRow, 'seq'>;

export interface UserRepository {
  insert(user: UserRow): void;
  get(id: string): UserRow | undefined;
  findByEmail(email: string): UserRow | undefined;
  /** Oldest first. */
  list(): UserRow[];
  count(): number;
  /** Writes every field but `createdAt`; false when there is no such user. */
  update(user: Omit<UserRow, 'createdAt'>): boolean;
  delete(id: string): boolean;
}

export interface AgentRepository {
  insert(agent: AgentRow): void;
  get(id: string): AgentRow | undefined;
  /** Oldest first. */
  list(): AgentRow[];
  /** Writes every field but `createdBy`, `createdAt` and `lastActiveAt`. */
  update(agent: Omit<AgentRow, 'createdBy' | 'createdAt' | 'lastActiveAt'>): boolean;
  touchLastActive(id: string, at: string): boolean;
  delete(id: string): boolean;
}

export interface ApiKeyRepository {
  insert(key: ApiKeyRow): void;
  get(id: string): ApiKeyRow | undefined;
  /** Revoked and expired keys are found too: the caller decides and says why. */
  findByHash(keyHash: Buffer): ApiKeyRow | undefined;
  /** Oldest first, revoked ones included. */
  listByPrincipal(principalType: PrincipalType, principalId: string): ApiKeyRow[];
  /** False when there is no such key or it was already revoked. */
  revoke(id: string, at: string): boolean;
  /** Revokes every live key of the principal; returns how many. */
  revokeAllForPrincipal(principalType: PrincipalType, principalId: string, at: string): number;
  touchLastUsed(id: string, at: string): boolean;
  delete(id: string): boolean;
  deleteAllForPrincipal(principalType: PrincipalType, principalId: string): number;
}

export interface VaultRepository {
  insert(vault: VaultRow): void;
  get(id: string): VaultRow | undefined;
  findByName(ownerType: PrincipalType, ownerId: string, name: string): VaultRow | undefined;
  /** Oldest first. */
  list(): VaultRow[];
  listByOwner(ownerType: PrincipalType, ownerId: string): VaultRow[];
  update(vault: Pick<VaultRow, 'id' | 'name' | 'description'>): boolean;
  setStrictMode(id: string, strictMode: boolean): boolean;
  /** After the vault key is re-wrapped under a new KEK. */
  setWrappedKey(id: string, wrappedKey: Buffer): boolean;
  /** Deletes the vault with its secrets, their versions and its policies. */
  delete(id: string): boolean;
  /** Secrets not soft-deleted. */
  countSecrets(vaultId: string): number;
}

export interface SecretListOptions {
  /**
   * A plain string prefix of the path, as in 1Claw: `a/b` lists `a/b`, `a/b/c` and `a/bc`. For
   * "the folder a/b", pass `a/b/`.
   */
  prefix?: string;
  /** Keyset cursor: only paths after this one (the last path of the previous page). */
  after?: string;
  limit: number;
  includeDeleted?: boolean;
}

export interface SecretRepository {
  insertSecret(secret: NewSecret): void;
  getSecretById(id: string): SecretRow | undefined;
  /** Soft-deleted secrets are returned too (`deletedAt` set). */
  getSecretByPath(vaultId: string, path: string): SecretRow | undefined;
  /** In path order (by code point, i.e. UTF-8 byte order), at most `limit` rows. */
  listSecrets(vaultId: string, options: SecretListOptions): SecretRow[];
  countSecrets(vaultId: string, options?: Pick<SecretListOptions, 'prefix' | 'includeDeleted'>): number;
  /**
   * Raises the secret's current version by one and returns it; undefined when there is no such
   * secret. Inside `Store.transaction`, concurrent writers get distinct, increasing numbers.
   */
  nextVersion(secretId: string, updatedAt: string): number | undefined;
  insertVersion(version: SecretVersionRow): void;
  getVersion(secretId: string, version: number): SecretVersionRow | undefined;
  /** Oldest first. */
  listVersions(secretId: string): SecretVersionSummary[];
  /** False when there is no such version or it was already disabled. */
  disableVersion(secretId: string, version: number, at: string): boolean;
  setCurrentVersion(secretId: string, version: number, updatedAt: string): boolean;
  /** Counts one access and returns the new count; undefined when there is no such secret. */
  incrementAccessCount(secretId: string): number | undefined;
  /** Counts `reads` accesses at once and returns the new count; undefined when there is no such secret. */
  addAccessCount(secretId: string, reads: number): number | undefined;
  updateSecretMeta(change: SecretMetaChange): boolean;
  /** False when there is no such secret or it was already deleted. */
  softDelete(secretId: string, at: string): boolean;
  /** False when there is no such secret or it was not deleted. */
  restore(secretId: string, at: string): boolean;
  /** Removes the secret and all its versions for good. */
  purge(secretId: string): boolean;
}

export interface PolicyRepository {
  insert(policy: PolicyRow): void;
  get(id: string): PolicyRow | undefined;
  /** Highest priority first, then oldest first; so for all the lists below. */
  listForVault(vaultId: string): PolicyRow[];
  listForPrincipal(vaultId: string, principalType: PrincipalType, principalId: string): PolicyRow[];
  listForPrincipalAllVaults(principalType: PrincipalType, principalId: string): PolicyRow[];
  /** Writes every field but `vaultId`, `createdByType`, `createdBy` and `createdAt`. */
  update(policy: Omit<PolicyRow, 'vaultId' | 'createdByType' | 'createdBy' | 'createdAt'>): boolean;
  delete(id: string): boolean;
  deleteAllForPrincipal(principalType: PrincipalType, principalId: string): number;
}

export interface AuditFilter {
  vaultId?: string;
  actorType?: string;
  actorId?: string;
  action?: string;
  outcome?: AuditOutcome;
  /** `createdAt >= from`. */
  from?: string;
  /** `createdAt < to`. */
  to?: string;
}

export interface AuditQuery extends AuditFilter {
  limit: number;
  offset?: number;
}

export interface AuditRepository {
  /** Appends one entry and returns its `seq`. */
  append(event: NewAuditEvent): number;
  /** Appends entries in order, in fewer statements than one `append` each. */
  appendMany(events: readonly NewAuditEvent[]): void;
  /** The newest entry: the head of the chain. */
  last(): AuditEventRow | undefined;
  /** Every entry after `afterSeq` in chain order, `batchSize` at a time, for streaming verification. */
  iterate(options?: { afterSeq?: number; batchSize?: number }): Generator<AuditEventRow[], void, undefined>;
  /** Newest first. */
  query(query: AuditQuery): AuditEventRow[];
  count(filter: AuditFilter): number;
}

/** Failed unlock, password or TOTP attempts of one subject (`talon.unlock`, `user:<id>:password`, …). */
export interface AuthFailureRow {
  subject: string;
  failures: number;
  lastFailureAt: string;
}

/** An audit entry as the engine makes it: who did what, where, with what outcome. Never a value. */
export interface AuditRecord {
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

/**
 * Writes batches of deferred audit entries (`deferred-audit.ts`): reads' entries and access
 * counts, chained under the key the engine hands over with each batch.
 */
export interface DeferredAuditWriter {
  /** Writes the batch now, inside the caller's write transaction. */
  writeNow(batch: AuditBatch, chainKey: Buffer): void;
  /**
   * Hands the batch over to be written away from the caller (on SQLite: a writer thread with its
   * own connection) and returns at once; `onFailed` gets the batch back if it could not be written.
   * The key is copied: the caller keeps, and may zero, its own. Throws when no writer can take
   * the batch (the caller then writes it with `writeNow`).
   */
  writeLater(batch: AuditBatch, chainKey: Buffer, onFailed: (batch: AuditBatch) => void): void;
  /** Blocks until every batch handed over is written or given back. Never inside a transaction. */
  settle(): void;
}

/** An audit entry of an attempt made while locked, waiting for the next unlock to be chained. */
export interface LockedAuditEventRow {
  seq: number;
  action: string;
  outcome: AuditOutcome;
  detailsJson: string;
  ipAddress: string | null;
  createdAt: string;
}

export interface ThrottleRepository {
  get(subject: string): AuthFailureRow | undefined;
  /** Counts one more failure at `at` and returns the count. */
  recordFailure(subject: string, at: string): number;
  clear(subject: string): boolean;
  queueLockedEvent(event: Omit<LockedAuditEventRow, 'seq'>): void;
  /** Oldest first. */
  lockedEvents(): LockedAuditEventRow[];
  /** Removes the queued events up to and including `upToSeq`; returns how many. */
  removeLockedEvents(upToSeq: number): number;
}

/** Settings, one text value per key. */
export interface MetaRepository {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): boolean;
}

export type {
  ApprovalListFilter,
  ApprovalRepository,
  ApprovalRow,
  ApprovalStatusValue,
  RiskTierValue,
} from './approval-repository.js';
export type { AccessGrantRepository, AccessGrantRow } from './grant-repository.js';
export type { NewShare, ShareRecipientType, ShareRepository, ShareRow } from './share-repository.js';
import type { ApprovalRepository } from './approval-repository.js';
import type { AccessGrantRepository } from './grant-repository.js';
import type { ShareRepository } from './share-repository.js';
export type {
  ChainSettingRepository,
  ChainSettingRow,
  IdempotencyRow,
  SigningKeyOrigin,
  SigningKeyRepository,
  SigningKeyRow,
  TransactionRepository,
  TransactionRow,
  TransactionStatus,
  TxDailyTotalRow,
} from './transaction-repository.js';
import type {
  ChainSettingRepository,
  SigningKeyRepository,
  TransactionRepository,
} from './transaction-repository.js';

export interface Store {
  vaults: VaultRepository;
  secrets: SecretRepository;
  agents: AgentRepository;
  users: UserRepository;
  apiKeys: ApiKeyRepository;
  policies: PolicyRepository;
  audit: AuditRepository;
  meta: MetaRepository;
  throttle: ThrottleRepository;
  approvals: ApprovalRepository;
  shares: ShareRepository;
  accessGrants: AccessGrantRepository;
  signingKeys: SigningKeyRepository;
  chainSettings: ChainSettingRepository;
  transactions: TransactionRepository;
  /** Where reads' audit entries and access counts are written, a moment after the reads. */
  deferredAudit: DeferredAuditWriter;
  /**
   * Runs `fn` as one write transaction, taken at the start (so concurrent writers, in this process
   * or another, queue instead of failing), committed when `fn` returns and rolled back when it
   * throws. `fn` must be synchronous. Nested calls become savepoints.
   *
   * Commits are durable (fsynced, `synchronous=FULL`) unless `durable: false`, which the engine
   * uses only for the bookkeeping of reads (access counter, audit entry): those survive a crash
   * of Talon but may be lost, never half-written, in a power cut. A nested call keeps the
   * outer transaction's durability. Batches handed to `deferredAudit.writeLater` are written
   * before the transaction begins.
   */
  transaction<T>(fn: () => T, options?: { durable?: boolean }): T;
  close(): void;
}
