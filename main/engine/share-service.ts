import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { ShareRecipientType, ShareRow, VaultRow } from '../store/store.js';
import type { ApprovalInfo } from './approval-service.js';
import { type EngineContext, actorOf, callDetails, requireUnlocked, requireVault } from './engine-context.js';
import { newId } from '../store/ids.js';
import { evaluateConditions, policyConditionsSchema } from './policy-conditions.js';
import type { CallContext, Principal } from './principal.js';
import { requestHash } from './request-hash.js';
import { parseRequest } from './schemas.js';
import { TalonError } from './talon-error.js';

/**
 * Shares (1Claw's /v1/secrets/{id}/share, /v1/share/{id}, /v1/shares/*): a secret shared with
 * the agent's creator, a user, an agent, whoever holds the link, or (humans only) an email
 * address. A share holds no value: each access decrypts the secret's version through the
 * barrier, as a read does, and counts against the share's own `max_access_count`.
 *
 * Rules, each in one place below:
 * - Only who may read a secret may share it: the same decision as a read (vault binding, token
 *   scopes, policies, the crypto-proxy rule), with the `read` permission. Talon has no separate
 *   `share` permission; an agent's share always waits for a human's approval anyway.
 * - A share made by an agent is inert until a human approves it (approval `secret.share`);
 *   rejected or expired, it can never be accepted or accessed. So is a person's share of a
 *   secret whose read needs an approval (`require_approval`): a share must not get around it.
 * - Targeted shares (creator, user, agent) must be accepted by their recipient, who then reads
 *   them with their own credential. Link and email shares need no credential (the link is the
 *   credential), plus the passphrase when one was set.
 * - At most 10 shares a minute per owner (the accountable human: the user, or the agent's
 *   creator), counted from the shares table, so across transports and restarts.
 */

export const shareRecipientTypes = [
  'creator',
  'user',
  'agent',
  'anyone_with_link',
  'external_email',
] as const;
export const sharesPerMinute = 10;
const rateWindowMs = 60_000;
const defaultMaxAccessCount = 5;

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const createShareRequestSchema = z
  .object(
    {
      recipient_type: z.enum(shareRecipientTypes, {
        error: `must be one of ${shareRecipientTypes.join(', ')}`,
      }),
      recipient_id: z
        .guid({ error: 'must be the UUID of the user or agent' })
        .transform((id) => id.toLowerCase())
        .nullish(),
      email: z.email({ error: 'must be an email address' }).nullish(),
      permissions: z
        .array(z.literal('read', { error: 'must be "read": a share only ever lets its recipient read' }))
        .nullish(),
      max_access_count: z
        .int({ error: 'must be a whole number, 0 or more (0 = unlimited)' })
        .min(0)
        .max(1_000_000)
        .nullish(),
      expires_at: z.iso.datetime({
        offset: true,
        error: (issue) =>
          issue.input === undefined
            ? 'is required: every share must end (an ISO 8601 date-time such as "2026-12-31T00:00:00Z")'
            : 'must be an ISO 8601 date-time with a time zone, such as "2026-12-31T00:00:00Z"',
      }),
      passphrase: z
        .string({ error: 'must be a text of 8 to 1024 characters' })
        .min(8, { error: 'must be at least 8 characters' })
        .max(1024)
        .nullish(),
      ip_allowlist: z.array(z.string(), { error: 'must be a list of IP addresses or CIDR ranges' }).nullish(),
      /** Talon's: "latest" delivers whatever version is current at each access. */
      version: z
        .union([z.literal('latest'), z.literal('current'), z.int().min(1)], {
          error: 'must be "current" (the default: the version current now), "latest" or a version number',
        })
        .nullish(),
    },
    { error: 'must be a JSON object' },
  )
  .superRefine((body, context) => {
    if ((body.recipient_type === 'user' || body.recipient_type === 'agent') && !body.recipient_id) {
      context.issues.push({
        code: 'custom',
        input: body.recipient_id,
        path: ['recipient_id'],
        message: `is required when sharing with a ${body.recipient_type}`,
      });
    }
    if (body.recipient_type === 'external_email' && !body.email) {
      context.issues.push({
        code: 'custom',
        input: body.email,
        path: ['email'],
        message: 'is required when sharing with an external email address',
      });
    }
    if (body.ip_allowlist) {
      const parsed = policyConditionsSchema.safeParse({ ip_allowlist: body.ip_allowlist });
      if (!parsed.success) {
        context.issues.push({
          code: 'custom',
          input: body.ip_allowlist,
          path: ['ip_allowlist'],
          message: parsed.error.issues.map((issue) => issue.message).join('; '),
        });
      }
    }
  });

/** 1Claw's ShareResponse, plus Talon's status fields. */
export interface ShareInfo {
  id: string;
  share_url: string;
  secret_id: string;
  recipient_type: ShareRecipientType;
  recipient_id: string | null;
  recipient_email: string | null;
  expires_at: string;
  max_access_count: number;
  /** The version delivered, or "latest". */
  version: number | 'latest';
  status: ShareStatus;
  approval_id: string | null;
  approval_status: ApprovalInfo['status'] | null;
}

/** 1Claw's ShareListItem, plus Talon's fields. */
export interface ShareListItem extends ShareInfo {
  secret_path: string;
  vault_id: string;
  created_by: string;
  access_count: number;
  created_at: string;
  is_expired: boolean;
  is_accepted: boolean;
}

/** 1Claw's SharedSecretResponse. */
export interface SharedSecret {
  id: string;
  path: string;
  type: string;
  value: string;
  version: number;
  access_count: number;
  max_access_count: number;
}

export type ShareStatus =
  | 'pending_approval'
  | 'rejected'
  | 'awaiting_acceptance'
  | 'active'
  | 'declined'
  | 'revoked'
  | 'expired'
  | 'exhausted';

export class ShareService {
  constructor(private readonly context: EngineContext) {}

  async create(principal: Principal, secretId: string, body: unknown, call: CallContext): Promise<ShareInfo> {
    requireUnlocked(this.context);
    const request = parseRequest(createShareRequestSchema, body, 'share request');
    const secret = this.context.store.secrets.getSecretById(secretId.trim().toLowerCase());
    if (!secret || secret.deletedAt) {
      throw new TalonError(
        'not_found',
        `No secret with id ${secretId}. Shares name the secret's id (from list_secrets or describe), not its path.`,
      );
    }
    const vault = requireVault(this.context, principal, secret.vaultId);
    const deny = (
      message: string,
      code: 'forbidden' | 'invalid_input' | 'not_found' = 'forbidden',
    ): never => {
      this.audit(principal, 'share.create', 'denied', call, vault, secret.path, null, { reason: message });
      throw new TalonError(code, message);
    };
    if (request.recipient_type === 'external_email' && principal.type === 'agent') {
      deny('Agents cannot share by email; share with your creator (recipient_type "creator") instead.');
    }
    const decision = this.context.access.decide(principal, vault, secret.path, 'read', call, secret.type);
    if (!decision.allowed) {
      deny(`Access denied: only who may read a secret may share it, and ${decision.reason}.`);
    }
    const now = call.now;
    const expiresAt = new Date(request.expires_at);
    if (expiresAt.getTime() <= now.getTime()) {
      deny('Invalid share request: expires_at: must be in the future.', 'invalid_input');
    }
    const recipient = this.recipientOf(principal, request, deny);
    let version: number | null = secret.currentVersion;
    if (request.version === 'latest') version = null;
    else if (typeof request.version === 'number') {
      if (!this.context.store.secrets.getVersion(secret.id, request.version)) {
        deny(`Secret '${secret.path}' has no version ${request.version}.`, 'not_found');
      }
      version = request.version;
    }
    const passphraseHash = request.passphrase ? await hashPassphrase(request.passphrase) : null;
    const ownerUserId = principal.type === 'agent' ? principal.createdBy : principal.id;
    const maxAccessCount = request.max_access_count ?? defaultMaxAccessCount;

    const shareId = newId();
    const created = this.context.store.transaction(() => {
      // Counted inside the write transaction, so concurrent creators (any process) queue here.
      const windowStart = new Date(now.getTime() - rateWindowMs).toISOString();
      const recent = this.context.store.shares.createdSince(ownerUserId, windowStart);
      if (recent.length >= sharesPerMinute) {
        const oldest = Date.parse(recent[0]!);
        return { limited: Math.max(1, Math.ceil((oldest + rateWindowMs - now.getTime()) / 1000)) };
      }
      let approval: ApprovalInfo | null = null;
      // An agent's share always waits; so does a person's whose read itself needs an approval.
      if (principal.type === 'agent' || decision.requireApproval) {
        approval = this.context.approvals.request(
          {
            action: 'secret.share',
            requester: principal,
            vaultId: vault.id,
            target: { type: 'share', id: shareId },
            summary: `${this.requesterName(principal)} wants to share '${secret.path}' with ${describeRecipient(recipient)} (${maxAccessCount === 0 ? 'unlimited accesses' : `at most ${maxAccessCount} access${maxAccessCount === 1 ? '' : 'es'}`}, until ${expiresAt.toISOString()})`,
            riskTier: recipient.type === 'anyone_with_link' ? 'high' : 'medium',
            requestHash: requestHash('share', { share_id: shareId }),
            details: {
              vault_id: vault.id,
              vault_name: vault.name,
              path: secret.path,
              secret_id: secret.id,
              recipient_type: recipient.type,
              recipient_id: recipient.id,
              max_access_count: maxAccessCount,
              expires_at: expiresAt.toISOString(),
              version: version ?? 'latest',
              passphrase: passphraseHash !== null,
              ip_allowlist: request.ip_allowlist ?? null,
            },
          },
          call,
        );
      }
      this.context.store.shares.insert({
        id: shareId,
        secretId: secret.id,
        vaultId: vault.id,
        path: secret.path,
        version,
        creatorType: principal.type,
        creatorId: principal.id,
        ownerUserId,
        recipientType: recipient.type,
        recipientId: recipient.id,
        recipientEmail: recipient.email,
        maxAccessCount,
        expiresAt: expiresAt.toISOString(),
        passphraseHash,
        ipAllowlistJson: request.ip_allowlist ? JSON.stringify(request.ip_allowlist) : null,
        approvalId: approval?.id ?? null,
        createdAt: now.toISOString(),
      });
      this.audit(principal, 'share.create', 'success', call, vault, secret.path, shareId, {
        recipient_type: recipient.type,
        ...(recipient.id ? { recipient_id: recipient.id } : {}),
        max_access_count: maxAccessCount,
        expires_at: expiresAt.toISOString(),
        version: version ?? 'latest',
        ...(approval ? { approval_id: approval.id } : {}),
      });
      return { share: this.context.store.shares.get(shareId)! };
    });
    if ('limited' in created) {
      const message = `Too many shares: at most ${sharesPerMinute} a minute per owner. Try again in ${created.limited} s.`;
      this.audit(principal, 'share.create', 'denied', call, vault, secret.path, null, { reason: message });
      throw new TalonError('rate_limited', message, { details: { retry_after: created.limited } });
    }
    return this.shareInfo(created.share, call);
  }

  listOutbound(principal: Principal, call: CallContext): ShareListItem[] {
    requireUnlocked(this.context);
    return this.context.store.shares
      .listByCreator(principal.type, principal.id)
      .map((share) => this.listItem(share, call));
  }

  listInbound(principal: Principal, call: CallContext): ShareListItem[] {
    requireUnlocked(this.context);
    return this.context.store.shares
      .listByRecipient(principal.type, principal.id)
      .filter((share) => this.approvalStatus(share) === 'approved' || share.approvalId === null)
      .map((share) => this.listItem(share, call));
  }

  accept(principal: Principal, shareId: string, call: CallContext): void {
    this.answer(principal, shareId, call, 'accept');
  }

  decline(principal: Principal, shareId: string, call: CallContext): void {
    this.answer(principal, shareId, call, 'decline');
  }

  /** Only the share's creator (or the owner of Talon) revokes; accesses answer 404 from then on. */
  revoke(principal: Principal, shareId: string, call: CallContext): void {
    requireUnlocked(this.context);
    const share = this.context.store.shares.get(shareId.trim().toLowerCase());
    const mayRevoke =
      share &&
      ((share.creatorType === principal.type && share.creatorId === principal.id) ||
        (principal.type === 'user' && principal.role === 'owner'));
    if (!share || !mayRevoke || share.revokedAt) {
      this.auditShare(principal, 'share.revoke', 'denied', call, share, { reason: 'not found or not yours' });
      throw new TalonError('not_found', `No share ${shareId} of yours to revoke. List your outbound shares.`);
    }
    this.context.store.transaction(() => {
      this.context.store.shares.revoke(share.id, call.now.toISOString());
      this.auditShare(principal, 'share.revoke', 'success', call, share);
    });
  }

  /**
   * GET /v1/share/{id}: the shared value. `principal` is null for a caller without a credential
   * (enough for link and email shares). Counts the access; 404 for unknown, revoked or declined
   * shares, 410 once expired or spent, 403 for a share still waiting (approval, acceptance) or a
   * caller who is not its recipient, is outside its IP allowlist or lacks its passphrase.
   */
  async access(
    principal: Principal | null,
    shareId: string,
    options: { passphrase?: string },
    call: CallContext,
  ): Promise<SharedSecret> {
    requireUnlocked(this.context);
    const id = shareId.trim().toLowerCase();
    const share = this.context.store.shares.get(id);
    const refuse = (code: 'not_found' | 'gone' | 'forbidden' | 'unauthenticated', message: string): never => {
      this.auditShare(principal, 'share.access', 'denied', call, share, { reason: message });
      throw new TalonError(code, message);
    };
    if (!share || share.revokedAt)
      return refuse('not_found', `No share ${shareId}: it never existed or was revoked.`);
    const approval = this.approvalStatus(share);
    if (approval === 'pending') {
      return refuse(
        'forbidden',
        'This share was made by an agent and waits for a human to approve it in Talon.',
      );
    }
    if (approval === 'rejected' || approval === 'expired') {
      return refuse(
        'forbidden',
        `This share was made by an agent and its approval was ${approval}; it cannot be used.`,
      );
    }
    if (share.declinedAt) return refuse('not_found', `Share ${shareId} was declined by its recipient.`);
    if (Date.parse(share.expiresAt) <= call.now.getTime()) {
      return refuse('gone', `Share ${shareId} expired at ${share.expiresAt}.`);
    }
    if (share.maxAccessCount > 0 && share.accessCount >= share.maxAccessCount) {
      return refuse(
        'gone',
        `Share ${shareId} has reached its maximum access count (${share.maxAccessCount}).`,
      );
    }
    if (isTargeted(share)) {
      if (!principal) {
        return refuse(
          'unauthenticated',
          'This share is for a named recipient: send their credential as Authorization: Bearer.',
        );
      }
      if (!isRecipient(share, principal)) return refuse('forbidden', 'This share is for another recipient.');
      if (!share.acceptedAt) {
        return refuse('forbidden', `Accept the share first: POST /v1/shares/${share.id}/accept.`);
      }
    }
    if (share.ipAllowlistJson) {
      const outcome = evaluateConditions(
        { ip_allowlist: JSON.parse(share.ipAllowlistJson) as string[] },
        { ...(call.ip !== undefined ? { ip: call.ip } : {}), now: call.now },
      );
      if (!outcome.ok)
        return refuse('forbidden', `Access denied: ${outcome.reason.replace('policy', 'share')}.`);
    }
    if (share.passphraseHash) {
      if (!options.passphrase) {
        return refuse('forbidden', 'This share has a passphrase: send it in the X-Share-Passphrase header.');
      }
      if (!(await verifyPassphrase(options.passphrase, share.passphraseHash))) {
        return refuse('forbidden', 'The passphrase of this share is wrong.');
      }
    }
    const secret = this.context.store.secrets.getSecretById(share.secretId);
    if (!secret || secret.deletedAt) return refuse('gone', `The secret behind share ${shareId} was deleted.`);
    if (secret.expiresAt && Date.parse(secret.expiresAt) <= call.now.getTime()) {
      return refuse('gone', `The secret behind share ${shareId} has expired.`);
    }
    const versionNumber = share.version ?? secret.currentVersion;
    const row = this.context.store.secrets.getVersion(secret.id, versionNumber);
    if (!row || row.disabledAt)
      return refuse('gone', `The shared version ${versionNumber} is disabled or gone.`);
    const vault = this.context.store.vaults.get(secret.vaultId);
    if (!vault) return refuse('not_found', `No share ${shareId}.`);
    const plaintext = await this.context.barrier.open(
      vault,
      { vaultId: vault.id, path: secret.path, version: row.version, type: row.type },
      row,
    );
    try {
      type Counted = { accessCount: number } | { refused: readonly ['not_found' | 'gone', string] };
      const counted = this.context.store.transaction((): Counted => {
        const current = this.context.store.shares.get(share.id)!;
        if (current.revokedAt)
          return { refused: ['not_found', `No share ${shareId}: it was revoked.`] as const };
        if (current.maxAccessCount > 0 && current.accessCount >= current.maxAccessCount) {
          return { refused: ['gone', `Share ${shareId} has reached its maximum access count.`] as const };
        }
        const accessCount = this.context.store.shares.countAccess(share.id, call.now.toISOString())!;
        this.auditShare(principal, 'share.access', 'success', call, share, {
          version: row.version,
          access_count: accessCount,
        });
        return { accessCount };
      });
      if ('refused' in counted) return refuse(...counted.refused);
      return {
        id: share.id,
        path: secret.path,
        type: row.type,
        value: plaintext.toString('utf8'),
        version: row.version,
        access_count: counted.accessCount,
        max_access_count: share.maxAccessCount,
      };
    } finally {
      plaintext.fill(0);
    }
  }

  // ------------------------------------------------------------------------------------------

  private answer(principal: Principal, shareId: string, call: CallContext, how: 'accept' | 'decline'): void {
    requireUnlocked(this.context);
    const share = this.context.store.shares.get(shareId.trim().toLowerCase());
    const action = `share.${how}`;
    const refuse = (code: 'not_found' | 'forbidden' | 'conflict' | 'gone', message: string): never => {
      this.auditShare(principal, action, 'denied', call, share, { reason: message });
      throw new TalonError(code, message);
    };
    if (!share || share.revokedAt || !isTargeted(share) || !isRecipient(share, principal)) {
      return refuse('not_found', `No share ${shareId} for you to ${how}. List your inbound shares.`);
    }
    const approval = this.approvalStatus(share);
    if (approval === 'pending') {
      return refuse(
        'forbidden',
        'This share was made by an agent and waits for a human to approve it in Talon.',
      );
    }
    if (approval === 'rejected' || approval === 'expired') {
      return refuse('forbidden', `This share's approval was ${approval}; it cannot be accepted.`);
    }
    if (share.acceptedAt || share.declinedAt) {
      return refuse(
        'conflict',
        `Share ${share.id} was already ${share.acceptedAt ? 'accepted' : 'declined'}.`,
      );
    }
    if (Date.parse(share.expiresAt) <= call.now.getTime()) {
      return refuse('gone', `Share ${share.id} expired at ${share.expiresAt}.`);
    }
    this.context.store.transaction(() => {
      const at = call.now.toISOString();
      if (how === 'accept') this.context.store.shares.accept(share.id, at);
      else this.context.store.shares.decline(share.id, at);
      this.auditShare(principal, action, 'success', call, share);
    });
  }

  private recipientOf(
    principal: Principal,
    request: z.output<typeof createShareRequestSchema>,
    deny: (message: string, code?: 'forbidden' | 'invalid_input' | 'not_found') => never,
  ): { type: ShareRecipientType; id: string | null; email: string | null } {
    switch (request.recipient_type) {
      case 'creator':
        if (principal.type !== 'agent') {
          return deny(
            'Invalid share request: recipient_type: "creator" is the human who registered an agent, so only agents use it; share with a "user" instead.',
            'invalid_input',
          );
        }
        return { type: 'creator', id: principal.createdBy, email: null };
      case 'user': {
        const user = this.context.store.users.get(request.recipient_id!);
        if (!user || !user.isActive) return deny(`No user with id ${request.recipient_id}.`, 'not_found');
        return { type: 'user', id: user.id, email: null };
      }
      case 'agent': {
        const agent = this.context.store.agents.get(request.recipient_id!);
        if (!agent || !agent.isActive) return deny(`No agent with id ${request.recipient_id}.`, 'not_found');
        return { type: 'agent', id: agent.id, email: null };
      }
      case 'external_email':
        return { type: 'external_email', id: null, email: request.email!.toLowerCase() };
      default:
        return { type: 'anyone_with_link', id: null, email: null };
    }
  }

  private approvalStatus(share: ShareRow): ApprovalInfo['status'] | null {
    if (share.approvalId === null) return null;
    this.context.approvals.expireDue();
    return this.context.store.approvals.get(share.approvalId)?.status ?? 'rejected';
  }

  private statusOf(share: ShareRow, call: CallContext): ShareStatus {
    const approval = this.approvalStatus(share);
    if (share.revokedAt) return 'revoked';
    if (approval === 'pending') return 'pending_approval';
    if (approval === 'rejected' || approval === 'expired') return 'rejected';
    if (share.declinedAt) return 'declined';
    if (Date.parse(share.expiresAt) <= call.now.getTime()) return 'expired';
    if (share.maxAccessCount > 0 && share.accessCount >= share.maxAccessCount) return 'exhausted';
    if (isTargeted(share) && !share.acceptedAt) return 'awaiting_acceptance';
    return 'active';
  }

  private shareInfo(share: ShareRow, call: CallContext): ShareInfo {
    return {
      id: share.id,
      share_url: `/v1/share/${share.id}`,
      secret_id: share.secretId,
      recipient_type: share.recipientType,
      recipient_id: share.recipientId,
      recipient_email: share.recipientEmail,
      expires_at: share.expiresAt,
      max_access_count: share.maxAccessCount,
      version: share.version ?? 'latest',
      status: this.statusOf(share, call),
      approval_id: share.approvalId,
      approval_status: this.approvalStatus(share),
    };
  }

  private listItem(share: ShareRow, call: CallContext): ShareListItem {
    return {
      ...this.shareInfo(share, call),
      secret_path: share.path,
      vault_id: share.vaultId,
      created_by: `${share.creatorType}:${share.creatorId}`,
      access_count: share.accessCount,
      created_at: share.createdAt,
      is_expired: Date.parse(share.expiresAt) <= call.now.getTime(),
      is_accepted: share.acceptedAt !== null,
    };
  }

  private requesterName(principal: Principal): string {
    if (principal.type === 'user') {
      const user = this.context.store.users.get(principal.id);
      return user ? `User '${user.displayName || user.email}'` : `User ${principal.id}`;
    }
    const agent = this.context.store.agents.get(principal.id);
    return agent ? `Agent '${agent.name}'` : `Agent ${principal.id}`;
  }

  private audit(
    principal: Principal,
    action: string,
    outcome: 'success' | 'denied',
    call: CallContext,
    vault: VaultRow,
    path: string,
    shareId: string | null,
    details: Record<string, unknown>,
  ): void {
    this.context.audit.append({
      action,
      actor: actorOf(principal),
      outcome,
      vaultId: vault.id,
      resourceType: 'share',
      resourceId: shareId,
      path,
      details: { ...details, ...callDetails(call) },
      ip: call.ip ?? null,
    });
  }

  private auditShare(
    principal: Principal | null,
    action: string,
    outcome: 'success' | 'denied',
    call: CallContext,
    share: ShareRow | undefined,
    details: Record<string, unknown> = {},
  ): void {
    this.context.audit.append({
      action,
      actor: principal ? actorOf(principal) : { type: 'anonymous', id: null },
      outcome,
      vaultId: share?.vaultId ?? null,
      resourceType: 'share',
      resourceId: share?.id ?? null,
      path: share?.path ?? null,
      details: { ...details, ...callDetails(call) },
      ip: call.ip ?? null,
    });
  }
}

function isTargeted(share: ShareRow): boolean {
  return (
    share.recipientType === 'creator' || share.recipientType === 'user' || share.recipientType === 'agent'
  );
}

function isRecipient(share: ShareRow, principal: Principal): boolean {
  const type = share.recipientType === 'creator' ? 'user' : share.recipientType;
  return type === principal.type && share.recipientId === principal.id;
}

function describeRecipient(recipient: {
  type: ShareRecipientType;
  id: string | null;
  email: string | null;
}): string {
  switch (recipient.type) {
    case 'creator':
      return `its creator (user ${recipient.id})`;
    case 'anyone_with_link':
      return 'anyone with the link';
    case 'external_email':
      return recipient.email ?? 'an email address';
    default:
      return `${recipient.type} ${recipient.id}`;
  }
}

async function hashPassphrase(passphrase: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(passphrase, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

async function verifyPassphrase(passphrase: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(passphrase, Buffer.from(salt, 'base64'), expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
