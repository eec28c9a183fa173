import type { FastifyInstance } from 'fastify';
import { principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

type PairingParams = { Params: { pairing_id: string } };

/**
 * Asking to be paired, without a credential (`talon-mcp --agent <name>`): only a process on this
 * machine reaches the API, and nothing happens until a human approves. The asker polls `claim`
 * with the claim secret it sent: 202 while pending, 201 with the agent's new key once approved
 * (once), 403 when rejected, 410 when it expired.
 */
export function registerPairingRequestRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post('/v1/mcp/pairings', async (request, reply) => {
    reply.code(202);
    return engine.pairings.request(request.body, call(request));
  });

  app.post<PairingParams>('/v1/mcp/pairings/:pairing_id/claim', async (request, reply) => {
    const outcome = engine.pairings.claim(request.params.pairing_id, request.body, call(request));
    if (outcome.status === 'paired') {
      reply.code(201);
      return outcome.claimed;
    }
    reply.code(outcome.status === 'pending' ? 202 : outcome.status === 'rejected' ? 403 : 410);
    return outcome.approval;
  });
}

/** Humans list and revoke pairings (each is an API key of its agent, named after the client). */
export function registerPairingRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.get('/v1/mcp/pairings', async (request) => ({ pairings: engine.pairings.list(principalOf(request)) }));

  app.delete<PairingParams>('/v1/mcp/pairings/:pairing_id', async (request, reply) => {
    engine.pairings.revoke(principalOf(request), request.params.pairing_id, call(request));
    return reply.code(204).send();
  });
}
