import type { KeyStore } from '../../hsm-bridge/index.js';
import type { Store, VaultRow } from '../store/store.js';
import type { AccessControl } from './access-control.js';
import type { ApprovalService } from './approval-service.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import type { EngineEvents } from './engine-events.js';
import { type KeyRing, lockedMessage } from './key-ring.js';
import type { OutboundOptions } from './outbound-request.js';
import type { CallContext, Principal } from './principal.js';
import { TalonError } from './talon-error.js';
import type { ValueBarrier } from './value-barrier.js';

export interface EngineOptions {
  /** Largest secret value accepted, in bytes (UTF-8). Default 256 KiB. */
  maxValueBytes: number;
  /** Lifetime of agent and user JWTs when the agent sets none. Default 3600 s (1Claw's). */
  tokenTtlSeconds: number;
  /** How long an approval waits for a human before it expires. Default 15 minutes. */
  approvalTtlMs: number;
  /** Limits and trusted CAs of the requests http_request sends (outbound-request.ts). */
  outbound?: Partial<OutboundOptions>;
  now: () => Date;
}

export const defaultEngineOptions: EngineOptions = {
  maxValueBytes: 256 * 1024,
  tokenTtlSeconds: 3600,
  approvalTtlMs: 15 * 60_000,
  now: () => new Date(),
};

/** What every engine service shares: one store, one token, one key ring, one audit log. */
export interface EngineContext {
  store: Store;
  keyStore: KeyStore;
  keyRing: KeyRing;
  barrier: ValueBarrier;
  audit: AuditLog;
  access: AccessControl;
  options: EngineOptions;
  /** Tells subscribers (the event stream, waiting MCP calls) what changed; see engine-events.ts. */
  events: EngineEvents;
  /** The approval queue and its gate; see approval-service.ts. */
  approvals: ApprovalService;
}

export function requireUnlocked(context: EngineContext): void {
  if (!context.keyRing.isUnlocked) throw new TalonError('locked', lockedMessage);
}

/**
 * The vault, if the principal may reach it. An unknown id is 404; a vault that exists but that no
 * policy opens to the principal (or that its vault_ids binding excludes) is 403, as DESIGN's "no
 * matching policy → 403" and 1Claw's binding check answer. Vault ids are random UUIDs, so a 403
 * says no more than the id the caller already holds.
 */
export function requireVault(context: EngineContext, principal: Principal, vaultId: string): VaultRow {
  const vault = context.store.vaults.get(vaultId.toLowerCase());
  if (!vault) {
    throw new TalonError('not_found', `No vault with id ${vaultId}. List your vaults to find its id.`);
  }
  if (!context.access.canSeeVault(principal, vault)) {
    const bound =
      principal.type === 'agent' && principal.vaultIds.length > 0 && !principal.vaultIds.includes(vault.id);
    throw new TalonError(
      'forbidden',
      bound
        ? `Access denied: agent ${principal.id} is bound to other vaults (vault_ids), not ${vault.id}.`
        : `Access denied: no policy in vault ${vault.id} grants ${principal.type} ${principal.id} anything. Ask the vault's owner for a policy.`,
    );
  }
  return vault;
}

export function actorOf(principal: Principal): { type: 'user' | 'agent'; id: string } {
  return { type: principal.type, id: principal.id };
}

/** The caller's transport and request id, for audit details: added to `details` (by default a new object). */
export function callDetails(
  call: CallContext,
  details: Record<string, unknown> = {},
): Record<string, unknown> {
  if (call.via) details.via = call.via;
  if (call.requestId) details.request_id = call.requestId;
  return details;
}

/** Record a successful change or access by `principal`; every service records through this. */
export function recordSuccess(
  context: EngineContext,
  principal: Principal,
  call: CallContext,
  entry: Omit<AuditEntry, 'actor' | 'outcome' | 'ip'>,
): void {
  context.audit.append({
    ...entry,
    actor: actorOf(principal),
    outcome: 'success',
    details: { ...entry.details, ...callDetails(call) },
    ip: call.ip ?? null,
  });
}
