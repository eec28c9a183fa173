import type { FastifyReply, FastifyRequest } from 'fastify';
import { TalonError } from '../engine/index.js';

/** Where a caller names the approval it resubmits a gated request with. */
export const approvalIdHeader = 'x-approval-id';

/**
 * The approval a request is resubmitted with: `X-Approval-ID: <id>` or `?approval_id=<id>` (the
 * header wins). Any authenticated route accepts it; only gated calls look at it.
 */
export function approvalIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers[approvalIdHeader];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader?.trim()) return fromHeader.trim();
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.approval_id;
  return typeof fromQuery === 'string' && fromQuery.trim() !== '' ? fromQuery.trim() : undefined;
}

/**
 * A call that waits for a human is not an error: it answers 202 Accepted with the approval (the
 * body `GET /v1/approvals/{id}` returns), plus `approval_id` / `approval_request_id` (the names
 * 1Claw's clients read) and a `detail` saying how to go on, and `Location` pointing at its status.
 * Returns null for any other error.
 */
export function sendApprovalPending(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply | null {
  if (!(error instanceof TalonError) || error.code !== 'approval_required') return null;
  const approval = error.details.approval as { id: string } | undefined;
  if (!approval) return null;
  return reply
    .code(202)
    .header('content-type', 'application/json; charset=utf-8')
    .header('x-request-id', request.id)
    .header('location', `/v1/approvals/${approval.id}/status`)
    .send(
      JSON.stringify({
        ...approval,
        approval_id: approval.id,
        approval_request_id: approval.id,
        type: 'approval_required',
        detail: error.message,
        request_id: request.id,
      }),
    );
}
