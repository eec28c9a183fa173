import { randomInt } from 'node:crypto';
import type { SecretRow, SecretVersionRow, SecretVersionSummary, VaultRow } from '../store/store.js';
import {
  type EngineContext,
  actorOf,
  callDetails,
  recordSuccess,
  requireUnlocked,
  requireVault,
} from './engine-context.js';
import { parseEnvBundle } from './env-bundle.js';
import { countLimitedAccess, requireAvailableSecret, secretNotFound } from './secret-availability.js';
import { secretRequestHash } from './request-hash.js';
import { newId } from '../store/ids.js';
import type { Permission } from './policy-decision.js';
import type { CallContext, Principal } from './principal.js';
import {
  type PutSecretRequest,
  type RotateSecretRequest,
  type SecretType,
  parseRequest,
  putSecretRequestSchema,
  rotateSecretRequestSchema,
} from './schemas.js';
import { normalizePathPrefix, normalizeSecretPath } from './secret-path.js';
import { TalonError } from './talon-error.js';

/** 1Claw's SecretMetadataResponse, plus Talon's access counts and times. Never a value. */
export interface SecretMetadata {
  id: string;
  path: string;
  type: string;
  version: number;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  max_access_count: number;
  access_count: number;
  is_disabled: boolean;
  deleted_at: string | null;
}

export interface SecretValue {
  id: string;
  path: string;
  type: string;
  value: string;
  version: number;
  metadata: Record<string, unknown>;
  created_by: string;
  created_at: string;
  expires_at: string | null;
}

export interface SecretVersionInfo {
  id: string;
  path: string;
  type: string;
  version: number;
  created_at: string;
  created_by: string;
  is_disabled: boolean;
  is_current: boolean;
}

export interface SecretPage {
  secrets: SecretMetadata[];
  /** Pass as `after` for the next page; null on the last page. */
  next_cursor: string | null;
}

const defaultPageSize = 100;
const maxPageSize = 1000;

const charsets: Record<RotateSecretRequest['charset'], string> = {
  hex: '0123456789abcdef',
  base64: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
  alphanumeric: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  ascii: Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join(''),
};

/**
 * Secrets: versions, reads with access counting, soft delete, rotation. Values are encrypted and
 * decrypted only through the barrier; every outcome, allowed or denied, goes to the audit log.
 */
export class SecretService {
  constructor(private readonly context: EngineContext) {}

  async put(
    principal: Principal,
    vaultId: string,
    rawPath: string,
    body: unknown,
    call: CallContext,
  ): Promise<SecretMetadata> {
    const request = parseRequest(putSecretRequestSchema, body, 'secret');
    return this.writeVersion(principal, vaultId, rawPath, request, call, 'secret.write');
  }

  async get(
    principal: Principal,
    vaultId: string,
    rawPath: string,
    call: CallContext,
    version?: number,
  ): Promise<SecretValue> {
    const { vault, path } = this.locate(principal, vaultId, rawPath, call, 'read');
    const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
    this.authorize(principal, vault, path, 'read', call, secret?.type, version ?? null);
    const live = requireAvailableSecret(path, secret, call);
    const wanted = version ?? live.currentVersion;
    const row = this.context.store.secrets.getVersion(live.id, wanted);
    if (!row)
      throw new TalonError(
        'not_found',
        `Secret '${path}' has no version ${wanted}. List its versions to see which exist.`,
      );
    if (row.disabledAt) throw new TalonError('gone', `Version ${wanted} of secret '${path}' is disabled.`);
    // An older version may have another type (a private_key under today's note): decide on its own.
    if (row.type !== live.type) {
      this.authorize(principal, vault, path, 'read', call, row.type, version ?? null);
    }
    const opened = this.context.barrier.open(
      vault,
      { vaultId: vault.id, path, version: row.version, type: row.type },
      row,
    );
    // A session-mode open is synchronous: awaiting it anyway would cost a turn of the microtask queue.
    const plaintext = opened instanceof Promise ? await opened : opened;
    try {
      const readEntry = {
        action: 'secret.read',
        actor: actorOf(principal),
        outcome: 'success' as const,
        vaultId: vault.id,
        resourceType: 'secret',
        resourceId: live.id,
        path,
        details: callDetails(call, { version: row.version }),
        ip: call.ip ?? null,
      };
      let counted = live;
      if (live.maxAccessCount === 0) {
        // Unlimited reads: the counter and the entry are written with the next batch.
        this.context.audit.defer(readEntry, live.id);
      } else {
        // A limited secret counts in the same transaction that checks the limit, across processes.
        counted = this.context.store.transaction(
          () => {
            const { secret: current, accessCount } = countLimitedAccess(this.context.store, live.id, path);
            this.context.audit.append({
              ...readEntry,
              details: { ...readEntry.details, access_count: accessCount },
            });
            return current;
          },
          { durable: false },
        );
      }
      return {
        id: counted.id,
        path,
        type: row.type,
        value: plaintext.toString('utf8'),
        version: row.version,
        metadata: parseMetadata(counted.metadataJson),
        created_by: `${row.createdByType}:${row.createdBy}`,
        created_at: row.createdAt,
        expires_at: counted.expiresAt,
      };
    } finally {
      plaintext.fill(0);
    }
  }

  describe(principal: Principal, vaultId: string, rawPath: string, call: CallContext): SecretMetadata {
    this.context.audit.flushForCounts(); // so access counts include the reads still batched
    const { vault, path } = this.locate(principal, vaultId, rawPath, call, 'read');
    this.authorize(principal, vault, path, 'read', call);
    const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
    if (!secret) throw secretNotFound(path);
    return this.metadataOf(secret);
  }

  /** Secrets the principal may use (or read), in path order, one page at a time; never values. */
  list(
    principal: Principal,
    vaultId: string,
    call: CallContext,
    options: { prefix?: string; after?: string; limit?: number; includeDeleted?: boolean } = {},
  ): SecretPage {
    requireUnlocked(this.context);
    this.context.audit.flushForCounts(); // so access counts include the reads still batched
    const vault = this.visibleVault(principal, vaultId, call, 'list', null);
    const prefix = options.prefix ? normalizePathPrefix(options.prefix) : undefined;
    const limit = Math.min(Math.max(1, options.limit ?? defaultPageSize), maxPageSize);
    const admin = this.context.access.isVaultAdmin(principal, vault);
    if (options.includeDeleted && !admin) {
      throw new TalonError('forbidden', 'Only the vault owner can list deleted secrets.');
    }
    const secrets: SecretMetadata[] = [];
    let after = options.after;
    for (;;) {
      const batch = this.context.store.secrets.listSecrets(vault.id, {
        ...(prefix ? { prefix } : {}),
        ...(after ? { after } : {}),
        limit: admin ? limit : Math.max(limit, 200),
        includeDeleted: options.includeDeleted ?? false,
      });
      for (const row of batch) {
        after = row.path;
        // Listed when usable (read implies use): a use-only agent must find the paths it may use.
        if (admin || this.context.access.decide(principal, vault, row.path, 'use', call, row.type).allowed) {
          secrets.push(this.metadataOf(row));
          if (secrets.length === limit) return { secrets, next_cursor: row.path };
        }
      }
      if (batch.length === 0 || admin) return { secrets, next_cursor: null };
    }
  }

  async delete(principal: Principal, vaultId: string, rawPath: string, call: CallContext): Promise<void> {
    const { vault, path } = this.locate(principal, vaultId, rawPath, call, 'delete');
    this.authorize(principal, vault, path, 'delete', call);
    this.context.store.transaction(() => {
      const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
      if (!secret || secret.deletedAt) throw secretNotFound(path);
      this.context.store.secrets.softDelete(secret.id, this.now());
      this.record(principal, 'secret.delete', vault, path, secret.id, call);
    });
  }

  /** Undo a soft delete: the vault's owner only. */
  restore(principal: Principal, vaultId: string, rawPath: string, call: CallContext): SecretMetadata {
    const { vault, path } = this.locate(principal, vaultId, rawPath, call, 'restore');
    this.requireAdmin(principal, vault, 'restore deleted secrets');
    return this.context.store.transaction(() => {
      const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
      if (!secret || !secret.deletedAt)
        throw new TalonError('not_found', `No deleted secret at path '${path}' to restore.`);
      this.context.store.secrets.restore(secret.id, this.now());
      this.record(principal, 'secret.restore', vault, path, secret.id, call);
      return this.metadataOf(this.context.store.secrets.getSecretById(secret.id)!);
    });
  }

  /** Remove a secret and every version for good: the vault's owner only. */
  purge(principal: Principal, vaultId: string, rawPath: string, call: CallContext): void {
    const { vault, path } = this.locate(principal, vaultId, rawPath, call, 'purge');
    this.requireAdmin(principal, vault, 'purge secrets');
    this.context.store.transaction(() => {
      const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
      if (!secret) throw secretNotFound(path);
      this.context.store.secrets.purge(secret.id);
      this.record(principal, 'secret.purge', vault, path, secret.id, call);
    });
  }

  versions(principal: Principal, vaultId: string, rawPath: string, call: CallContext): SecretVersionInfo[] {
    const { vault, path } = this.locate(principal, vaultId, rawPath, call, 'read');
    this.authorize(principal, vault, path, 'read', call);
    const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
    if (!secret) throw secretNotFound(path);
    return this.context.store.secrets.listVersions(secret.id).map((row) => versionInfo(secret, row));
  }

  disableVersion(
    principal: Principal,
    vaultId: string,
    rawPath: string,
    version: number,
    call: CallContext,
  ): void {
    const { vault, path } = this.locate(principal, vaultId, rawPath, call, 'write');
    this.authorize(principal, vault, path, 'write', call);
    this.context.store.transaction(() => {
      const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
      if (!secret) throw secretNotFound(path);
      if (!this.context.store.secrets.getVersion(secret.id, version)) {
        throw new TalonError('not_found', `Secret '${path}' has no version ${version}.`);
      }
      this.context.store.secrets.disableVersion(secret.id, version, this.now());
      this.record(principal, 'secret.version.disable', vault, path, secret.id, call, { version });
    });
  }

  /** A new version holding the value of an older one; nothing is rewritten. */
  async rollback(
    principal: Principal,
    vaultId: string,
    rawPath: string,
    version: number,
    call: CallContext,
  ): Promise<SecretMetadata> {
    const old = await this.get(principal, vaultId, rawPath, call, version);
    try {
      return await this.writeVersion(
        principal,
        vaultId,
        rawPath,
        { type: old.type as SecretType, value: old.value },
        call,
        'secret.rollback',
        {
          from_version: version,
        },
      );
    } finally {
      old.value = '';
    }
  }

  /** Server-side rotation: a random value of `length` characters from `charset`. */
  async rotate(
    principal: Principal,
    vaultId: string,
    rawPath: string,
    body: unknown,
    call: CallContext,
  ): Promise<SecretMetadata> {
    const request = parseRequest(rotateSecretRequestSchema, body ?? {}, 'rotate request');
    const alphabet = charsets[request.charset];
    const value = Array.from({ length: request.length }, () => alphabet[randomInt(alphabet.length)]).join('');
    return this.writeVersion(
      principal,
      vaultId,
      rawPath,
      { value, ...(request.type ? { type: request.type } : {}) },
      call,
      'secret.rotate',
      {
        length: request.length,
        charset: request.charset,
      },
    );
  }

  // ------------------------------------------------------------------------------------------

  private async writeVersion(
    principal: Principal,
    vaultId: string,
    rawPath: string,
    request: Pick<PutSecretRequest, 'value'> & Partial<Omit<PutSecretRequest, 'value'>>,
    call: CallContext,
    action: string,
    details: Record<string, unknown> = {},
  ): Promise<SecretMetadata> {
    const { vault, path } = this.locate(principal, vaultId, rawPath, call, 'write');
    this.authorize(principal, vault, path, 'write', call);
    const existing = this.context.store.secrets.getSecretByPath(vault.id, path);
    const type = request.type ?? existing?.type ?? 'note';
    const plaintext = Buffer.from(request.value, 'utf8');
    try {
      this.validateValue(type, plaintext, request.value);
      const dataKey = await this.context.barrier.newDataKey(vault);
      try {
        const secretId = this.context.store.transaction(() => {
          const now = this.now();
          let secret = this.context.store.secrets.getSecretByPath(vault.id, path);
          if (!secret) {
            this.context.store.secrets.insertSecret({
              id: newId(),
              vaultId: vault.id,
              path,
              type,
              metadataJson: JSON.stringify(request.metadata ?? {}),
              expiresAt: request.expires_at ?? null,
              maxAccessCount: request.max_access_count ?? 0,
              currentVersion: 0,
              createdByType: principal.type,
              createdBy: principal.id,
              createdAt: now,
              updatedAt: now,
            });
            secret = this.context.store.secrets.getSecretByPath(vault.id, path)!;
          } else if (secret.deletedAt) {
            this.context.store.secrets.restore(secret.id, now);
          }
          const version = this.context.store.secrets.nextVersion(secret.id, now)!;
          const ciphertext = this.context.barrier.seal(
            dataKey,
            { vaultId: vault.id, path, version, type },
            plaintext,
          );
          this.context.store.secrets.insertVersion({
            secretId: secret.id,
            version,
            type,
            ciphertext,
            wrappedDek: dataKey.wrapped,
            valueLength: plaintext.length,
            createdByType: principal.type,
            createdBy: principal.id,
            createdAt: now,
            disabledAt: null,
          });
          this.context.store.secrets.updateSecretMeta({
            id: secret.id,
            type,
            metadataJson:
              request.metadata === undefined || request.metadata === null
                ? secret.metadataJson
                : JSON.stringify(request.metadata),
            expiresAt: request.expires_at === undefined ? secret.expiresAt : request.expires_at,
            maxAccessCount: request.max_access_count ?? secret.maxAccessCount,
            // max_access_count budgets reads of a value: a new value starts a new budget.
            accessCount: 0,
            currentVersion: version,
            updatedAt: now,
          });
          this.record(principal, action, vault, path, secret.id, call, { version, type, ...details });
          return secret.id;
        });
        return this.metadataOf(this.context.store.secrets.getSecretById(secretId)!);
      } finally {
        this.context.barrier.discard(dataKey);
      }
    } finally {
      plaintext.fill(0);
    }
  }

  private validateValue(type: string, plaintext: Buffer, value: string): void {
    const limit = this.context.options.maxValueBytes;
    if (plaintext.length > limit) {
      throw new TalonError(
        'payload_too_large',
        `The value is ${plaintext.length} bytes; the limit is ${limit} bytes (TALON_MAX_VALUE_BYTES). Store large files elsewhere and keep their key here.`,
      );
    }
    if (type === 'env_bundle') parseEnvBundle(value);
  }

  private locate(
    principal: Principal,
    vaultId: string,
    rawPath: string,
    call: CallContext,
    attempted: string,
  ): { vault: VaultRow; path: string } {
    requireUnlocked(this.context);
    const path = normalizeSecretPath(rawPath);
    return { vault: this.visibleVault(principal, vaultId, call, attempted, path), path };
  }

  /** requireVault, with its refusal audited: reaching for a vault one cannot see is a denial too. */
  private visibleVault(
    principal: Principal,
    vaultId: string,
    call: CallContext,
    attempted: string,
    path: string | null,
  ): VaultRow {
    try {
      return requireVault(this.context, principal, vaultId);
    } catch (error) {
      const exists = this.context.store.vaults.get(vaultId.toLowerCase()) !== undefined;
      this.context.audit.append({
        action: `secret.${attempted}`,
        actor: actorOf(principal),
        outcome: 'denied',
        vaultId: vaultId.toLowerCase(),
        resourceType: 'secret',
        path,
        details: {
          reason: exists ? 'the vault is not visible to the caller' : 'no such vault',
          ...callDetails(call),
        },
        ip: call.ip ?? null,
      });
      throw error;
    }
  }

  /** One decision, audited when it denies; throws forbidden / approval_required. */
  private authorize(
    principal: Principal,
    vault: VaultRow,
    path: string,
    permission: Permission,
    call: CallContext,
    type?: string,
    /** The version a value operation is for (null: the current one); absent for metadata (describe, versions). */
    version?: number | null,
  ): void {
    const decision = this.context.access.decide(principal, vault, path, permission, call, type);
    if (decision.allowed && !decision.requireApproval) return;
    // require_approval guards values, not metadata: listing already shows what describe shows.
    if (decision.allowed && permission === 'read' && version === undefined) return;
    let waiting: TalonError | null = null;
    if (decision.allowed) {
      try {
        const gate = { type, version: version ?? null, policyId: decision.policyId };
        this.gateByApproval(principal, vault, path, permission, call, gate);
        return;
      } catch (error) {
        if (!TalonError.is(error)) throw error;
        error.details.policy_id ??= decision.policyId;
        waiting = error;
      }
    }
    this.context.audit.append({
      action: `secret.${permission}`,
      actor: actorOf(principal),
      outcome: 'denied',
      vaultId: vault.id,
      resourceType: 'secret',
      path,
      details: { reason: decision.reason, policy_id: decision.policyId, ...callDetails(call) },
      ip: call.ip ?? null,
    });
    if (waiting) throw waiting;
    throw new TalonError('forbidden', `Access denied: ${decision.reason}.`, {
      details: { policy_id: decision.policyId },
    });
  }

  /**
   * A use a policy allows only with a human's approval: passes with a window the human granted,
   * or an approval of exactly this request (principal, vault, path, operation, version); else
   * queues one and throws `approval_required` (see approval-service.ts).
   */
  private gateByApproval(
    principal: Principal,
    vault: VaultRow,
    path: string,
    permission: Permission,
    call: CallContext,
    {
      type,
      version,
      policyId,
    }: { type: string | undefined; version: number | null; policyId: string | null },
  ): void {
    const operation = `secret.${permission}` as const;
    const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
    const who =
      principal.type === 'agent'
        ? `Agent ${this.context.store.agents.get(principal.id)?.name ?? principal.id}`
        : `User ${principal.id}`;
    const which = version === null ? 'the current version' : `version ${version}`;
    this.context.approvals.gate(
      principal,
      {
        action: operation,
        vaultId: vault.id,
        target: { type: 'secret', id: secret?.id ?? vault.id },
        summary: `${who} wants to ${permission} '${path}' (${which}) in vault '${vault.name}'`,
        riskTier: type !== undefined && ['private_key', 'ssh_key'].includes(type) ? 'high' : 'medium',
        requestHash: secretRequestHash(principal, { vaultId: vault.id, path, operation, version }),
        details: {
          vault_id: vault.id,
          vault_name: vault.name,
          path,
          permission,
          version,
          ...(type !== undefined ? { secret_type: type } : {}),
          policy_id: policyId,
        },
        grantable: { vaultId: vault.id, path, permission },
      },
      call,
    );
  }

  private requireAdmin(principal: Principal, vault: VaultRow, what: string): void {
    if (!this.context.access.isVaultAdmin(principal, vault)) {
      throw new TalonError('forbidden', `Only the vault's owner can ${what}.`);
    }
  }

  private record(
    principal: Principal,
    action: string,
    vault: VaultRow,
    path: string,
    secretId: string,
    call: CallContext,
    details: Record<string, unknown> = {},
  ): void {
    recordSuccess(this.context, principal, call, {
      action,
      vaultId: vault.id,
      resourceType: 'secret',
      resourceId: secretId,
      path,
      details,
    });
  }

  private metadataOf(secret: SecretRow): SecretMetadata {
    const current = this.context.store.secrets.getVersion(secret.id, secret.currentVersion);
    return {
      id: secret.id,
      path: secret.path,
      type: secret.type,
      version: secret.currentVersion,
      metadata: parseMetadata(secret.metadataJson),
      created_at: secret.createdAt,
      updated_at: secret.updatedAt,
      expires_at: secret.expiresAt,
      max_access_count: secret.maxAccessCount,
      access_count: secret.accessCount,
      is_disabled: current?.disabledAt != null,
      deleted_at: secret.deletedAt,
    };
  }

  private now(): string {
    return this.context.options.now().toISOString();
  }
}

function versionInfo(secret: SecretRow, row: SecretVersionSummary | SecretVersionRow): SecretVersionInfo {
  return {
    id: secret.id,
    path: secret.path,
    type: row.type,
    version: row.version,
    created_at: row.createdAt,
    created_by: `${row.createdByType}:${row.createdBy}`,
    is_disabled: row.disabledAt !== null,
    is_current: row.version === secret.currentVersion,
  };
}

function parseMetadata(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
