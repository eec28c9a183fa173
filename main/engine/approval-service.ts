import { z } from 'zod';
import type { AccessGrantRow, ApprovalRow, ApprovalStatusValue, RiskTierValue } from '../store/store.js';
import type { EngineContext } from './engine-context.js';
import type { EngineEventListener, EngineEvents } from './engine-events.js';
import { newId } from '../store/ids.js';
import { lockedMessage } from './key-ring.js';
import type { CallContext, Principal } from './principal.js';
import { parseRequest } from './schemas.js';
import { TalonError } from './talon-error.js';

/**
 * The approval queue: one place where everything an agent may not do alone waits for a human —
 * shares created by agents, reads under a policy with `require_approval`, transactions beyond an
 * agent's limits, secret requests, MCP pairings.
 *
 * An approval is bound to the hash of exactly the request it approves (see request-hash.ts) and
 * is used once: `consume` succeeds for the requester, for that hash, once. Humans decide; agents
 * never. Pending approvals expire after `approvalTtlMs` (lazily on every look, and by a timer).
 * For secret operations the human may instead open a window ("this agent, this path, for N
 * minutes / until lock"), kept in `access_grants` and cleared on every lock and unlock.
 *
 * Subscribers (the `/v1/events` stream, an MCP call waiting for its decision) hear of new,
 * decided and expired approvals through `subscribe`, after the change is committed.
 */

/** Known actions; services may add `secret.<permission>` for other gated permissions. */
export type ApprovalAction =
  | 'secret.share'
  | 'secret.read'
  | 'secret.write'
  | 'secret.delete'
  | 'secret.use'
  | 'transaction'
  | 'secret.request'
  | 'mcp.pairing'
  /** Something of the agent's own (POST /v1/approvals/request): its action name is in details. */
  | 'agent.request';

/** Approvals that may open a window instead of a single use. */
const windowActions: ReadonlySet<string> = new Set([
  'secret.read',
  'secret.use',
  'secret.write',
  'secret.delete',
]);

export type ApprovalStatus = ApprovalStatusValue;
export type RiskTier = RiskTierValue;

/** What `request` needs. `requester` is the principal asking (an agent, or a member user). */
export interface ApprovalRequestInput {
  action: ApprovalAction;
  requester: Principal;
  vaultId?: string | null;
  /** What the approval is about: `{ type: 'secret', id: <secret id> }`, `{ type: 'share', id }`, ... */
  target: { type: string; id: string };
  /** One line a human reads in the prompt: who asks what. */
  summary: string;
  riskTier: RiskTier;
  /** From request-hash.ts: binds the approval to exactly this request. */
  requestHash: string;
  /** Shown with the prompt (path, recipient, limits, decoded transaction); never a value. */
  details?: Record<string, unknown>;
  /** The agent's own stated reason, if it gave one. */
  reason?: string | null;
}

/** An approval as the API answers it (1Claw's ApprovalResponse fields, plus Talon's). */
export interface ApprovalInfo {
  id: string;
  action: string;
  target_type: string;
  target_id: string;
  vault_id: string | null;
  summary: string;
  details: Record<string, unknown>;
  risk_tier: RiskTier;
  status: ApprovalStatus;
  requester: { type: 'user' | 'agent'; id: string; name: string | null; client: string | null };
  /** 1Claw's: the agent that asked (null when a user asked). */
  agent_id: string | null;
  reason: string | null;
  decision_reason: string | null;
  decided_by: string | null;
  decided_at: string | null;
  expires_at: string;
  created_at: string;
  used_at: string | null;
}

/** What an agent may see of its own approval. */
export interface ApprovalStatusInfo {
  id: string;
  status: ApprovalStatus;
  expires_at: string;
  decided_at: string | null;
  decision_reason: string | null;
  used_at: string | null;
}

export interface ApprovalEvent {
  type: 'approval.created' | 'approval.decided' | 'approval.expired';
  approval: ApprovalInfo;
}

/** A window a human opened with an approval. */
export interface AccessGrantInfo {
  id: string;
  principal_type: 'user' | 'agent';
  principal_id: string;
  vault_id: string;
  path: string;
  permission: string;
  approval_id: string;
  granted_by: string;
  created_at: string;
  /** Null: until the next lock. */
  expires_at: string | null;
}

export interface DecideInput {
  decision: 'approve' | 'reject';
  reason?: string;
  /** Only for approvals of secret operations: allow the same principal this path for a while. */
  grant?: { minutes?: number; until_lock?: boolean };
}

/** What a service hands `gate` for a call a policy allows only with a human's approval. */
export interface GateInput extends Omit<ApprovalRequestInput, 'requester'> {
  /** When set, a window the human granted for exactly this principal, vault, path and permission lets the call through. */
  grantable?: { vaultId: string; path: string; permission: string };
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called every `progressIntervalMs` (default 2 s) while the approval is pending. */
  onProgress?: (elapsedMs: number, approval: ApprovalInfo) => void;
  progressIntervalMs?: number;
}

/** What the approval service needs of the engine (everything but itself). */
export type ApprovalContext = Pick<EngineContext, 'store' | 'audit' | 'keyRing' | 'options'> & {
  events: EngineEvents;
};

export const defaultApprovalTtlMs = 15 * 60_000;
/** The most a human may open a window for; "until lock" has no fixed length. */
const maxGrantMinutes = 24 * 60;
/** Once approved, an approval must be used within this long (the request it approves is meant to be retried soon). */
const useWindowFactor = 1;

const decideRequestSchema = z.object(
  {
    decision: z
      .enum(['approve', 'reject', 'approved', 'rejected', 'deny', 'denied'], {
        error: 'must be "approve" or "reject"',
      })
      .transform((d): 'approve' | 'reject' => (d === 'approve' || d === 'approved' ? 'approve' : 'reject')),
    reason: z
      .string({ error: 'must be a text of at most 1000 characters' })
      .max(1000, { error: 'must be at most 1000 characters' })
      .nullish()
      .transform((r) => r ?? undefined),
    grant: z
      .strictObject(
        {
          minutes: z
            .int({ error: `must be a whole number of minutes from 1 to ${maxGrantMinutes}` })
            .min(1)
            .max(maxGrantMinutes)
            .optional(),
          until_lock: z.literal(true, { error: 'must be true, or be left out' }).optional(),
        },
        { error: 'must be an object: { "minutes": 15 } or { "until_lock": true }' },
      )
      .refine((g) => (g.minutes === undefined) !== (g.until_lock === undefined), {
        error: 'must give exactly one of minutes and until_lock',
      })
      .optional(),
  },
  { error: 'must be a JSON object' },
);

const listQuerySchema = z.object({
  status: z
    .enum(['pending', 'approved', 'rejected', 'expired'], {
      error: 'must be pending, approved, rejected or expired',
    })
    .optional(),
  limit: z.int().min(1).max(1000).optional(),
  offset: z.int().min(0).optional(),
});

export class ApprovalService {
  private expiryTimer: NodeJS.Timeout | null = null;
  /** Requests already let through in a call (an approval is consumed once, but a call may check twice). */
  private readonly passedInCall = new WeakMap<CallContext, Set<string>>();

  constructor(
    private readonly context: ApprovalContext,
    private readonly ttlMs: number = defaultApprovalTtlMs,
  ) {}

  // ---- asking ---------------------------------------------------------------------------------

  /**
   * Queue an approval (status `pending`), or return the requester's pending one for the same
   * request hash. Audited; subscribers hear `approval.created` for a new one.
   */
  request(input: ApprovalRequestInput, call: CallContext): ApprovalInfo {
    this.requireUnlocked();
    this.expireDue(call);
    const { requester } = input;
    const created = this.context.store.transaction(() => {
      const existing = this.context.store.approvals.findPending(
        input.requestHash,
        requester.type,
        requester.id,
      );
      if (existing) return { row: existing, isNew: false };
      const now = call.now;
      const row: ApprovalRow = {
        id: newId(),
        action: input.action,
        targetType: input.target.type,
        targetId: input.target.id.toLowerCase(),
        vaultId: input.vaultId?.toLowerCase() ?? null,
        summary: input.summary,
        detailsJson: JSON.stringify(input.details ?? {}),
        riskTier: input.riskTier,
        requesterType: requester.type,
        requesterId: requester.id,
        requesterName: this.nameOf(requester),
        requesterClient: call.client ?? call.via ?? null,
        reason: input.reason ?? call.approvalReason ?? null,
        requestHash: input.requestHash,
        status: 'pending',
        decidedBy: null,
        decidedAt: null,
        decisionReason: null,
        expiresAt: new Date(now.getTime() + this.ttlMs).toISOString(),
        createdAt: now.toISOString(),
        usedAt: null,
      };
      this.context.store.approvals.insert(row);
      this.context.audit.append({
        action: 'approval.request',
        actor: { type: requester.type, id: requester.id },
        outcome: 'success',
        vaultId: row.vaultId,
        resourceType: 'approval',
        resourceId: row.id,
        details: {
          approval_action: row.action,
          target_type: row.targetType,
          target_id: row.targetId,
          risk_tier: row.riskTier,
          ...(row.requesterClient ? { client: row.requesterClient } : {}),
          ...callFields(call),
        },
        ip: call.ip ?? null,
      });
      return { row, isNew: true };
    });
    const info = approvalInfo(created.row);
    if (created.isNew) {
      this.context.events.emit({ type: 'approval.created', approval: info });
      this.scheduleExpiry();
    }
    return info;
  }

  /**
   * The approval gate for a call a policy allows only with a human's approval. Lets the call
   * through (returns) when a window the human granted covers it, when `call.approvalId` names an
   * approved approval for exactly this request, or when such an approval is waiting unused;
   * otherwise queues (or reuses) a pending approval and throws `approval_required` carrying it
   * (`details.approval`, `details.approval_id`), which REST answers with 202.
   */
  gate(principal: Principal, input: GateInput, call: CallContext): void {
    this.requireUnlocked();
    const passed = this.passedInCall.get(call);
    if (passed?.has(input.requestHash)) return;
    const pass = () => {
      const set = this.passedInCall.get(call) ?? new Set<string>();
      set.add(input.requestHash);
      this.passedInCall.set(call, set);
    };
    if (input.grantable) {
      const grant = this.context.store.accessGrants.findActive(
        principal.type,
        principal.id,
        input.grantable.vaultId,
        input.grantable.path,
        input.grantable.permission,
        call.now.toISOString(),
      );
      if (grant) {
        this.context.audit.append({
          action: 'approval.grant.use',
          actor: { type: principal.type, id: principal.id },
          outcome: 'success',
          vaultId: grant.vaultId,
          resourceType: 'access_grant',
          resourceId: grant.id,
          path: grant.path,
          details: { permission: grant.permission, approval_id: grant.approvalId, ...callFields(call) },
          ip: call.ip ?? null,
        });
        pass();
        return;
      }
    }
    if (call.approvalId) {
      this.consume(principal, call.approvalId, input.requestHash, call);
      pass();
      return;
    }
    const waiting = this.approvedUnused(principal, input.requestHash, call);
    if (waiting) {
      this.consume(principal, waiting.id, input.requestHash, call);
      pass();
      return;
    }
    const approval = this.request({ ...input, requester: principal }, call);
    throw pendingError(approval);
  }

  /**
   * Use an approval once: it must be the principal's own, approved, for exactly `requestHash`,
   * unused and still within its use window. Throws `approval_required` while it is pending,
   * `forbidden` when it was rejected, used already (a replay) or approves another request,
   * `gone` when it expired, `not_found` when there is no such approval. Audited either way.
   */
  consume(principal: Principal, approvalId: string, requestHash: string, call: CallContext): ApprovalInfo {
    this.requireUnlocked();
    this.expireDue(call);
    const id = approvalId.trim().toLowerCase();
    // Refusals are audited after the transaction, which a throw inside it would roll back.
    const outcome = this.context.store.transaction(
      (): { approval: ApprovalInfo } | { refused: TalonError; vaultId: string | null } => {
        const row = this.context.store.approvals.get(id);
        const refuse = (refused: TalonError) => ({ refused, vaultId: row?.vaultId ?? null });
        if (!row || row.requesterType !== principal.type || row.requesterId !== principal.id) {
          return refuse(
            new TalonError(
              'not_found',
              `No approval ${approvalId} of yours. Send the approval_id Talon answered your request with.`,
            ),
          );
        }
        if (row.requestHash !== requestHash) {
          return refuse(
            new TalonError(
              'forbidden',
              `Approval ${row.id} approves another request (${row.summary}); an approval is good only for exactly the request it was asked for. Send that request, or ask again without approval_id.`,
              { details: { approval_id: row.id } },
            ),
          );
        }
        if (row.status === 'pending') {
          return refuse(pendingError(approvalInfo(row)));
        }
        if (row.status === 'rejected') {
          return refuse(
            new TalonError(
              'forbidden',
              `Approval ${row.id} was rejected${row.decisionReason ? `: ${row.decisionReason}` : ''}.`,
              { details: { approval_id: row.id } },
            ),
          );
        }
        if (row.status === 'expired') {
          return refuse(
            new TalonError('gone', `Approval ${row.id} expired before a human decided it. Ask again.`, {
              details: { approval_id: row.id },
            }),
          );
        }
        if (row.usedAt) {
          return refuse(
            new TalonError(
              'forbidden',
              `Approval ${row.id} was already used at ${row.usedAt}; an approval is good for one request only. Send the request without approval_id to ask again.`,
              { details: { approval_id: row.id } },
            ),
          );
        }
        if (this.useDeadline(row) <= call.now.getTime()) {
          return refuse(
            new TalonError(
              'gone',
              `Approval ${row.id} was approved at ${row.decidedAt} but not used in time. Ask again.`,
              { details: { approval_id: row.id } },
            ),
          );
        }
        const at = call.now.toISOString();
        this.context.store.approvals.markUsed(row.id, at);
        this.context.audit.append({
          action: 'approval.consume',
          actor: { type: principal.type, id: principal.id },
          outcome: 'success',
          vaultId: row.vaultId,
          resourceType: 'approval',
          resourceId: row.id,
          details: { approval_action: row.action, ...callFields(call) },
          ip: call.ip ?? null,
        });
        return { approval: approvalInfo({ ...row, usedAt: at }) };
      },
    );
    if ('approval' in outcome) return outcome.approval;
    this.context.audit.append({
      action: 'approval.consume',
      actor: { type: principal.type, id: principal.id },
      outcome: 'denied',
      vaultId: outcome.vaultId,
      resourceType: 'approval',
      resourceId: id,
      details: { reason: outcome.refused.message, ...callFields(call) },
      ip: call.ip ?? null,
    });
    throw outcome.refused;
  }

  // ---- humans ---------------------------------------------------------------------------------

  /** The queue, newest first, for humans; an agent sees only its own approvals. */
  list(
    principal: Principal,
    query: { status?: ApprovalStatus; limit?: number; offset?: number } = {},
    call?: CallContext,
  ): ApprovalInfo[] {
    this.requireUnlocked();
    const filter = parseRequest(listQuerySchema, query, 'approval list request');
    this.expireDue(call);
    return this.context.store.approvals
      .list({
        ...(filter.status ? { status: filter.status } : {}),
        ...(principal.type === 'agent' ? { requesterType: 'agent' as const, requesterId: principal.id } : {}),
        limit: filter.limit ?? 100,
        offset: filter.offset ?? 0,
      })
      .map(approvalInfo);
  }

  /** One approval: any for a human, only its own for an agent (others are "not found"). */
  get(principal: Principal, approvalId: string, call?: CallContext): ApprovalInfo {
    this.requireUnlocked();
    this.expireDue(call);
    return approvalInfo(this.visibleRow(principal, approvalId));
  }

  /** What an agent polls (MCP get_approval_status, GET /v1/approvals/{id}/status). */
  status(principal: Principal, approvalId: string, call?: CallContext): ApprovalStatusInfo {
    const approval = this.get(principal, approvalId, call);
    return statusInfo(approval);
  }

  /**
   * A human approves or rejects. Agents never decide (403), a user never decides their own
   * request, a decided approval cannot be decided again (409), an expired one is 410. Approving
   * with `grant` also opens a window for the same principal on the same path.
   */
  decide(principal: Principal, approvalId: string, body: unknown, call: CallContext): ApprovalInfo {
    this.requireUnlocked();
    const input = parseRequest(decideRequestSchema, body, 'approval decision');
    this.expireDue(call);
    const id = approvalId.trim().toLowerCase();
    const refuse = (error: TalonError, row?: ApprovalRow): never => {
      this.context.audit.append({
        action: 'approval.decide',
        actor: { type: principal.type, id: principal.id },
        outcome: 'denied',
        vaultId: row?.vaultId ?? null,
        resourceType: 'approval',
        resourceId: id,
        details: { decision: input.decision, reason: error.message, ...callFields(call) },
        ip: call.ip ?? null,
      });
      throw error;
    };
    if (principal.type !== 'user') {
      return refuse(
        new TalonError('forbidden', 'Only a human can decide an approval; agents can only ask and wait.'),
      );
    }
    const outcome = this.context.store.transaction(
      (): { decided: ApprovalRow } | { refused: TalonError; row?: ApprovalRow } => {
        const row = this.context.store.approvals.get(id);
        const refuse = (refused: TalonError, found?: ApprovalRow) => ({
          refused,
          ...(found ? { row: found } : {}),
        });
        if (!row) {
          return refuse(
            new TalonError('not_found', `No approval with id ${approvalId}. List approvals to find its id.`),
          );
        }
        if (row.requesterType === 'user' && row.requesterId === principal.id) {
          return refuse(
            new TalonError('forbidden', 'You cannot decide your own request; another person must.'),
            row,
          );
        }
        if (row.status === 'expired') {
          return refuse(
            new TalonError(
              'gone',
              `Approval ${row.id} expired at ${row.expiresAt}, before anyone decided it.`,
            ),
            row,
          );
        }
        if (row.status !== 'pending') {
          return refuse(
            new TalonError(
              'conflict',
              `Approval ${row.id} was already ${row.status} by ${row.decidedBy ?? 'someone'} at ${row.decidedAt ?? 'an earlier time'}; a decision cannot be changed.`,
            ),
            row,
          );
        }
        if (input.grant && (input.decision !== 'approve' || !windowActions.has(row.action))) {
          return refuse(
            new TalonError(
              'invalid_input',
              'Invalid approval decision: grant: only an approval of a secret read or use can open a window; leave grant out.',
            ),
            row,
          );
        }
        const at = call.now.toISOString();
        const status = input.decision === 'approve' ? 'approved' : 'rejected';
        this.context.store.approvals.decide(row.id, {
          status,
          decidedBy: principal.id,
          decidedAt: at,
          decisionReason: input.reason ?? null,
        });
        let grantId: string | null = null;
        if (input.grant) grantId = this.openGrant(row, principal.id, input.grant, call);
        this.context.audit.append({
          action: 'approval.decide',
          actor: { type: 'user', id: principal.id },
          outcome: 'success',
          vaultId: row.vaultId,
          resourceType: 'approval',
          resourceId: row.id,
          details: {
            decision: status,
            approval_action: row.action,
            ...(input.reason ? { reason: input.reason } : {}),
            ...(grantId ? { grant_id: grantId } : {}),
            ...callFields(call),
          },
          ip: call.ip ?? null,
        });
        return {
          decided: {
            ...row,
            status,
            decidedBy: principal.id,
            decidedAt: at,
            decisionReason: input.reason ?? null,
          },
        };
      },
    );
    if ('refused' in outcome) return refuse(outcome.refused, outcome.row);
    const info = approvalInfo(outcome.decided);
    this.context.events.emit({ type: 'approval.decided', approval: info });
    return info;
  }

  /**
   * Resolves when the approval is decided or expires, or when `timeoutMs` passes (then with the
   * approval still pending), or when `signal` aborts (rejects with its reason).
   */
  waitForDecision(approvalId: string, options: WaitOptions): Promise<ApprovalInfo> {
    this.requireUnlocked();
    const id = approvalId.trim().toLowerCase();
    const current = () => {
      this.expireDue();
      const row = this.context.store.approvals.get(id);
      if (!row) throw new TalonError('not_found', `No approval with id ${approvalId}.`);
      return approvalInfo(row);
    };
    const first = current();
    if (first.status !== 'pending') return Promise.resolve(first);
    return new Promise<ApprovalInfo>((resolve, reject) => {
      const started = Date.now();
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        clearTimeout(timeout);
        clearInterval(progress);
        options.signal?.removeEventListener('abort', aborted);
        outcome();
      };
      const unsubscribe = this.context.events.subscribe((event) => {
        if ('approval' in event && event.approval.id === id && event.approval.status !== 'pending') {
          finish(() => resolve(event.approval));
        } else if (event.type === 'talon.locked') {
          finish(() => reject(new TalonError('locked', lockedMessage)));
        }
      });
      const timeout = setTimeout(
        () =>
          finish(() => {
            try {
              resolve(current());
            } catch (error) {
              reject(error);
            }
          }),
        Math.max(0, options.timeoutMs),
      );
      const progress = setInterval(() => {
        if (!settled) options.onProgress?.(Date.now() - started, first);
      }, options.progressIntervalMs ?? 2000);
      const aborted = () => finish(() => reject(options.signal?.reason ?? new Error('aborted')));
      if (options.signal?.aborted) aborted();
      else options.signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  /** Hear `approval.created`, `approval.decided` and `approval.expired`; returns the unsubscribe. */
  subscribe(listener: (event: ApprovalEvent) => void): () => void {
    const forward: EngineEventListener = (event) => {
      if ('approval' in event) listener(event);
    };
    return this.context.events.subscribe(forward);
  }

  // ---- windows --------------------------------------------------------------------------------

  listGrants(principal: Principal, call?: CallContext): AccessGrantInfo[] {
    this.requireHuman(principal, 'see the access windows');
    const now = (call?.now ?? this.context.options.now()).toISOString();
    return this.context.store.accessGrants
      .list()
      .filter((grant) => grant.expiresAt === null || grant.expiresAt > now)
      .map(grantInfo);
  }

  revokeGrant(principal: Principal, grantId: string, call: CallContext): void {
    this.requireHuman(principal, 'revoke an access window');
    this.context.store.transaction(() => {
      const grant = this.context.store.accessGrants.get(grantId.trim().toLowerCase());
      if (!grant) {
        throw new TalonError('not_found', `No access window with id ${grantId}. List them to find its id.`);
      }
      this.context.store.accessGrants.delete(grant.id);
      this.context.audit.append({
        action: 'approval.grant.revoke',
        actor: { type: 'user', id: principal.id },
        outcome: 'success',
        vaultId: grant.vaultId,
        resourceType: 'access_grant',
        resourceId: grant.id,
        path: grant.path,
        details: { principal: `${grant.principalType}:${grant.principalId}`, ...callFields(call) },
        ip: call.ip ?? null,
      });
    });
  }

  /**
   * Every window ends at lock: call while still unlocked (the audit entry needs its key), at lock
   * and at unlock (a crash skipped the lock). Returns how many were removed.
   */
  clearGrants(call: CallContext): number {
    if (!this.context.keyRing.isUnlocked) return 0;
    return this.context.store.transaction(() => {
      const removed = this.context.store.accessGrants.deleteAll();
      if (removed > 0) {
        this.context.audit.append({
          action: 'approval.grants.clear',
          actor: { type: 'system', id: null },
          outcome: 'success',
          details: { removed },
          ip: call.ip ?? null,
        });
      }
      return removed;
    });
  }

  /** Stop the expiry timer (engine shutdown). */
  stop(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  // ---- expiry ---------------------------------------------------------------------------------

  /** Marks pending approvals past their expiry as expired (audited, announced). Safe to call often. */
  expireDue(call?: CallContext): ApprovalInfo[] {
    if (!this.context.keyRing.isUnlocked) return [];
    const now = (call?.now ?? this.context.options.now()).toISOString();
    const due = this.context.store.approvals.listPendingExpiredBy(now);
    if (due.length === 0) return [];
    const expired = this.context.store.transaction(() =>
      due.filter((row) => {
        if (!this.context.store.approvals.expire(row.id)) return false;
        this.context.audit.append({
          action: 'approval.expire',
          actor: { type: 'system', id: null },
          outcome: 'success',
          vaultId: row.vaultId,
          resourceType: 'approval',
          resourceId: row.id,
          details: { approval_action: row.action, expired_at: row.expiresAt },
        });
        return true;
      }),
    );
    const infos = expired.map((row) => approvalInfo({ ...row, status: 'expired' }));
    for (const approval of infos) this.context.events.emit({ type: 'approval.expired', approval });
    return infos;
  }

  private scheduleExpiry(): void {
    const next = this.context.store.approvals.nextPendingExpiry();
    if (next === undefined) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    const delay = Math.min(
      Math.max(0, Date.parse(next) - this.context.options.now().getTime()) + 50,
      2 ** 31 - 1,
    );
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      try {
        this.expireDue();
      } catch {
        // Locked or busy: the next look expires them lazily.
      }
      if (this.context.keyRing.isUnlocked) this.scheduleExpiry();
    }, delay);
    this.expiryTimer.unref();
  }

  // ---- inside ---------------------------------------------------------------------------------

  private approvedUnused(
    principal: Principal,
    requestHash: string,
    call: CallContext,
  ): ApprovalRow | undefined {
    return this.context.store.approvals
      .list({ status: 'approved', requesterType: principal.type, requesterId: principal.id, limit: 20 })
      .find(
        (row) =>
          row.requestHash === requestHash &&
          row.usedAt === null &&
          this.useDeadline(row) > call.now.getTime(),
      );
  }

  /** An approved approval is good for one use within one approval lifetime of its decision. */
  private useDeadline(row: ApprovalRow): number {
    const decided = row.decidedAt ? Date.parse(row.decidedAt) : Date.parse(row.createdAt);
    return decided + this.ttlMs * useWindowFactor;
  }

  private openGrant(
    row: ApprovalRow,
    grantedBy: string,
    grant: NonNullable<DecideInput['grant']>,
    call: CallContext,
  ): string {
    const details = JSON.parse(row.detailsJson) as { path?: unknown; permission?: unknown };
    if (typeof details.path !== 'string' || row.vaultId === null) {
      throw new TalonError('invalid_input', 'This approval names no vault path, so it cannot open a window.');
    }
    const id = newId();
    this.context.store.accessGrants.insert({
      id,
      principalType: row.requesterType,
      principalId: row.requesterId,
      vaultId: row.vaultId,
      path: details.path,
      permission:
        typeof details.permission === 'string' ? details.permission : row.action.slice('secret.'.length),
      approvalId: row.id,
      grantedBy,
      createdAt: call.now.toISOString(),
      expiresAt: grant.minutes ? new Date(call.now.getTime() + grant.minutes * 60_000).toISOString() : null,
    });
    // The window takes the place of the approval's single use.
    this.context.store.approvals.markUsed(row.id, call.now.toISOString());
    return id;
  }

  private visibleRow(principal: Principal, approvalId: string): ApprovalRow {
    const row = this.context.store.approvals.get(approvalId.trim().toLowerCase());
    const visible =
      row &&
      (principal.type === 'user' || (row.requesterType === 'agent' && row.requesterId === principal.id));
    if (!row || !visible) {
      throw new TalonError(
        'not_found',
        principal.type === 'agent'
          ? `No approval ${approvalId} of yours. Agents can only see the approvals they asked for.`
          : `No approval with id ${approvalId}. List approvals to find its id.`,
      );
    }
    return row;
  }

  private nameOf(principal: Principal): string | null {
    if (principal.type === 'agent') return this.context.store.agents.get(principal.id)?.name ?? null;
    const user = this.context.store.users.get(principal.id);
    return user ? user.displayName || user.email : null;
  }

  private requireUnlocked(): void {
    if (!this.context.keyRing.isUnlocked) throw new TalonError('locked', lockedMessage);
  }

  private requireHuman(principal: Principal, what: string): void {
    this.requireUnlocked();
    if (principal.type !== 'user') throw new TalonError('forbidden', `Only a human can ${what}.`);
  }
}

export function approvalInfo(row: ApprovalRow): ApprovalInfo {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(row.detailsJson) as Record<string, unknown>;
  } catch {
    details = {};
  }
  return {
    id: row.id,
    action: row.action,
    target_type: row.targetType,
    target_id: row.targetId,
    vault_id: row.vaultId,
    summary: row.summary,
    details,
    risk_tier: row.riskTier,
    status: row.status,
    requester: {
      type: row.requesterType,
      id: row.requesterId,
      name: row.requesterName,
      client: row.requesterClient,
    },
    agent_id: row.requesterType === 'agent' ? row.requesterId : null,
    reason: row.reason,
    decision_reason: row.decisionReason,
    decided_by: row.decidedBy,
    decided_at: row.decidedAt,
    expires_at: row.expiresAt,
    created_at: row.createdAt,
    used_at: row.usedAt,
  };
}

export function statusInfo(approval: ApprovalInfo): ApprovalStatusInfo {
  return {
    id: approval.id,
    status: approval.status,
    expires_at: approval.expires_at,
    decided_at: approval.decided_at,
    decision_reason: approval.decision_reason,
    used_at: approval.used_at,
  };
}

/** The error of a call that waits for a human: REST answers it with 202 and the approval. */
export function pendingError(approval: ApprovalInfo): TalonError {
  return new TalonError(
    'approval_required',
    `A human must approve this first: ${approval.summary}. Approval ${approval.id} is pending until ${approval.expires_at}; once approved, send the same request again with approval_id=${approval.id} (query) or X-Approval-ID, or poll GET /v1/approvals/${approval.id}/status.`,
    { details: { approval_id: approval.id, approval } },
  );
}

function grantInfo(grant: AccessGrantRow): AccessGrantInfo {
  return {
    id: grant.id,
    principal_type: grant.principalType,
    principal_id: grant.principalId,
    vault_id: grant.vaultId,
    path: grant.path,
    permission: grant.permission,
    approval_id: grant.approvalId,
    granted_by: grant.grantedBy,
    created_at: grant.createdAt,
    expires_at: grant.expiresAt,
  };
}

function callFields(call: CallContext): Record<string, unknown> {
  return {
    ...(call.via ? { via: call.via } : {}),
    ...(call.requestId ? { request_id: call.requestId } : {}),
  };
}
