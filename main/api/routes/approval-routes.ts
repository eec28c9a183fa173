import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TalonError, parseRequest, requestHash } from '../../engine/index.js';
import { principalOf } from '../authentication.js';
import { parseQuery, queryInteger } from '../query-parameters.js';
import type { RouteContext } from '../route-context.js';

type ApprovalParams = { Params: { approval_id: string } };
type GrantParams = { Params: { grant_id: string } };

const listQuerySchema = z.object({
  status: z
    .enum(['pending', 'approved', 'rejected', 'expired'], {
      error: 'must be pending, approved, rejected or expired',
    })
    .optional(),
  limit: queryInteger(1, 1000).optional(),
  offset: queryInteger(0, 1_000_000_000).optional(),
});

/** 1Claw's POST /v1/approvals/request body: an agent asks a human about something of its own. */
const agentRequestSchema = z.object(
  {
    action: z.string({ error: 'must be a short name of what you ask to do' }).trim().min(1).max(100),
    target_type: z.string({ error: 'must name the kind of thing concerned' }).trim().min(1).max(100),
    target_id: z.string({ error: 'must identify the thing concerned' }).trim().min(1).max(200),
    summary: z.union([z.string().max(2000), z.record(z.string(), z.unknown())], {
      error: 'must be a text or an object describing the request',
    }),
    reason: z.string({ error: 'must be a text' }).max(2000).nullish(),
    risk_tier: z
      .union([z.enum(['low', 'medium', 'high']), z.int().min(0).max(10)], {
        error: 'must be low, medium or high (or a number)',
      })
      .nullish(),
  },
  { error: 'must be a JSON object' },
);

/**
 * The approval queue, on 1Claw's paths: humans list, read and decide; agents read only their own
 * (`GET /v1/approvals/{id}` and `/status`) and may ask (`POST /v1/approvals/request`). Talon adds
 * the access windows a human opens when approving a read: `GET /v1/approvals/grants`,
 * `DELETE /v1/approvals/grants/{id}`.
 */
export function registerApprovalRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.get('/v1/approvals', async (request) => {
    const query = parseQuery(listQuerySchema, request, 'approval list request');
    return { approvals: engine.approvals.list(principalOf(request), query, call(request)) };
  });

  app.get('/v1/approvals/grants', async (request) => ({
    grants: engine.approvals.listGrants(principalOf(request), call(request)),
  }));

  app.delete<GrantParams>('/v1/approvals/grants/:grant_id', async (request, reply) => {
    engine.approvals.revokeGrant(principalOf(request), request.params.grant_id, call(request));
    return reply.code(204).send();
  });

  app.get<ApprovalParams>('/v1/approvals/:approval_id', async (request) =>
    engine.approvals.get(principalOf(request), request.params.approval_id, call(request)),
  );

  app.get<ApprovalParams>('/v1/approvals/:approval_id/status', async (request) =>
    engine.approvals.status(principalOf(request), request.params.approval_id, call(request)),
  );

  app.post<ApprovalParams>('/v1/approvals/:approval_id/decide', async (request) =>
    engine.approvals.decide(principalOf(request), request.params.approval_id, request.body, call(request)),
  );

  app.post('/v1/approvals/request', async (request, reply) => {
    const principal = principalOf(request);
    if (principal.type !== 'agent') {
      throw new TalonError('forbidden', 'Only agents ask for approvals here; people decide them.');
    }
    const body = parseRequest(agentRequestSchema, request.body, 'approval request');
    const summary =
      typeof body.summary === 'string' ? body.summary : JSON.stringify(body.summary).slice(0, 2000);
    const tier =
      typeof body.risk_tier === 'number'
        ? body.risk_tier >= 3
          ? 'high'
          : body.risk_tier >= 2
            ? 'medium'
            : 'low'
        : (body.risk_tier ?? 'medium');
    const approval = engine.approvals.request(
      {
        // The agent's own action name is kept in details; the queue knows it as a request of the agent.
        action: 'agent.request',
        requester: principal,
        target: { type: body.target_type, id: body.target_id },
        summary,
        riskTier: tier,
        requestHash: requestHash('agent-request', {
          agent: principal.id,
          action: body.action,
          target_type: body.target_type,
          target_id: body.target_id,
          summary,
        }),
        details: { requested_action: body.action },
        reason: body.reason ?? null,
      },
      call(request),
    );
    reply.code(202);
    return approval;
  });
}
