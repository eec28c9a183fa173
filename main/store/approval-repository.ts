import type { Database } from 'better-sqlite3';
import type { PrincipalType } from './store.js';

export type ApprovalStatusValue = 'pending' | 'approved' | 'rejected' | 'expired';
export type RiskTierValue = 'low' | 'medium' | 'high';

/** One entry of the approval queue (see migration 0040). */
export interface ApprovalRow {
  id: string;
  action: string;
  targetType: string;
  targetId: string;
  vaultId: string | null;
  /** One human-readable line: who asks what. */
  summary: string;
  /** What the prompt shows beyond the summary (path, recipient and limits, ...); never a value. */
  detailsJson: string;
  riskTier: RiskTierValue;
  requesterType: PrincipalType;
  requesterId: string;
  requesterName: string | null;
  /** The client the requester came through: an MCP client's name, `rest`, ... */
  requesterClient: string | null;
  reason: string | null;
  requestHash: string;
  status: ApprovalStatusValue;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  expiresAt: string;
  createdAt: string;
  usedAt: string | null;
}

export interface ApprovalListFilter {
  status?: ApprovalStatusValue;
  requesterType?: PrincipalType;
  requesterId?: string;
  limit: number;
  offset?: number;
}

export interface ApprovalRepository {
  insert(approval: ApprovalRow): void;
  get(id: string): ApprovalRow | undefined;
  /** Newest first. */
  list(filter: ApprovalListFilter): ApprovalRow[];
  /** The pending approval of this requester for this exact request, if any (newest). */
  findPending(
    requestHash: string,
    requesterType: PrincipalType,
    requesterId: string,
  ): ApprovalRow | undefined;
  /** Sets the decision; false unless the approval was still pending. */
  decide(
    id: string,
    decision: {
      status: 'approved' | 'rejected';
      decidedBy: string;
      decidedAt: string;
      decisionReason: string | null;
    },
  ): boolean;
  /** Pending approvals whose expiry is at or before `now`. */
  listPendingExpiredBy(now: string): ApprovalRow[];
  /** False unless the approval was still pending. */
  expire(id: string): boolean;
  /** The earliest expiry among pending approvals. */
  nextPendingExpiry(): string | undefined;
  /** Marks an approved approval used; false when it was used already. */
  markUsed(id: string, at: string): boolean;
}

const columns = `id, action, target_type AS targetType, target_id AS targetId, vault_id AS vaultId,
  summary, details_json AS detailsJson, risk_tier AS riskTier, requester_type AS requesterType,
  requester_id AS requesterId, requester_name AS requesterName, requester_client AS requesterClient,
  reason, request_hash AS requestHash, status, decided_by AS decidedBy, decided_at AS decidedAt,
  decision_reason AS decisionReason, expires_at AS expiresAt, created_at AS createdAt, used_at AS usedAt`;

export function createApprovalRepository(db: Database): ApprovalRepository {
  const insert = db.prepare<ApprovalRow>(
    `INSERT INTO approvals (id, action, target_type, target_id, vault_id, summary, details_json,
       risk_tier, requester_type, requester_id, requester_name, requester_client, reason,
       request_hash, status, decided_by, decided_at, decision_reason, expires_at, created_at, used_at)
     VALUES (@id, @action, @targetType, @targetId, @vaultId, @summary, @detailsJson,
       @riskTier, @requesterType, @requesterId, @requesterName, @requesterClient, @reason,
       @requestHash, @status, @decidedBy, @decidedAt, @decisionReason, @expiresAt, @createdAt, @usedAt)`,
  );
  const get = db.prepare<[string], ApprovalRow>(`SELECT ${columns} FROM approvals WHERE id = ?`);
  const findPending = db.prepare<[string, string, string], ApprovalRow>(
    `SELECT ${columns} FROM approvals
     WHERE request_hash = ? AND status = 'pending' AND requester_type = ? AND requester_id = ?
     ORDER BY created_at DESC, id DESC LIMIT 1`,
  );
  const decide = db.prepare<{
    id: string;
    status: string;
    decidedBy: string;
    decidedAt: string;
    decisionReason: string | null;
  }>(
    `UPDATE approvals SET status = @status, decided_by = @decidedBy, decided_at = @decidedAt,
       decision_reason = @decisionReason
     WHERE id = @id AND status = 'pending'`,
  );
  const listPendingExpiredBy = db.prepare<[string], ApprovalRow>(
    `SELECT ${columns} FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at`,
  );
  const expire = db.prepare<[string]>(
    `UPDATE approvals SET status = 'expired' WHERE id = ? AND status = 'pending'`,
  );
  const nextPendingExpiry = db.prepare<[], { expiresAt: string | null }>(
    `SELECT MIN(expires_at) AS expiresAt FROM approvals WHERE status = 'pending'`,
  );
  const markUsed = db.prepare<[string, string]>(
    `UPDATE approvals SET used_at = ? WHERE id = ? AND status = 'approved' AND used_at IS NULL`,
  );
  const listStatements = new Map<string, ReturnType<typeof db.prepare>>();

  return {
    insert: (approval) => void insert.run(approval),
    get: (id) => get.get(id),
    list: (filter) => {
      const where: string[] = [];
      if (filter.status !== undefined) where.push('status = @status');
      if (filter.requesterType !== undefined) where.push('requester_type = @requesterType');
      if (filter.requesterId !== undefined) where.push('requester_id = @requesterId');
      const sql = `SELECT ${columns} FROM approvals ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`;
      let statement = listStatements.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        listStatements.set(sql, statement);
      }
      return statement.all({
        status: filter.status,
        requesterType: filter.requesterType,
        requesterId: filter.requesterId,
        limit: filter.limit,
        offset: filter.offset ?? 0,
      }) as ApprovalRow[];
    },
    findPending: (requestHash, requesterType, requesterId) =>
      findPending.get(requestHash, requesterType, requesterId),
    decide: (id, decision) => decide.run({ id, ...decision }).changes > 0,
    listPendingExpiredBy: (now) => listPendingExpiredBy.all(now),
    expire: (id) => expire.run(id).changes > 0,
    nextPendingExpiry: () => nextPendingExpiry.get()?.expiresAt ?? undefined,
    markUsed: (id, at) => markUsed.run(at, id).changes > 0,
  };
}
