import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../authentication.js';
import { parseQuery, queryInteger, queryText } from '../query-parameters.js';
import type { RouteContext } from '../route-context.js';

const dateTime = z.string({ error: 'must be an ISO 8601 date-time with a time zone, given once' }).pipe(
  z.iso.datetime({
    offset: true,
    error: 'must be an ISO 8601 date-time with a time zone, such as 2026-01-31T12:00:00Z',
  }),
);

const auditQuerySchema = z.object({
  vault_id: z.guid({ error: 'must be a vault UUID, given once' }).optional(),
  actor_id: queryText(100).optional(),
  action: queryText(100).optional(),
  outcome: z.enum(['success', 'denied', 'error'], { error: 'must be success, denied or error' }).optional(),
  from: dateTime.optional(),
  to: dateTime.optional(),
  limit: queryInteger(1, 1000).optional(),
  offset: queryInteger(0, 1_000_000_000).optional(),
});

/** The audit log, for people: its entries, newest first, and the check of its chain. */
export function registerAuditRoutes(app: FastifyInstance, { engine }: RouteContext): void {
  app.get('/v1/audit/events', async (request) => {
    const query = parseQuery(auditQuerySchema, request, 'audit query');
    return engine.queryAudit(principalOf(request), {
      vaultId: query.vault_id?.toLowerCase(),
      actorId: query.actor_id?.toLowerCase(),
      action: query.action,
      outcome: query.outcome,
      from: query.from,
      to: query.to,
      limit: query.limit,
      offset: query.offset,
    });
  });

  app.get('/v1/audit/verify', async (request) => {
    const result = engine.verifyAudit(principalOf(request));
    return result.ok
      ? { valid: true, checked: result.checked }
      : { valid: false, checked: result.checked, broken_at: result.brokenAt, reason: result.reason };
  });
}
