import type { FastifyInstance } from 'fastify';
import { TalonError } from '../../engine/index.js';
import { principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

type AgentParams = { Params: { agent_id: string } };

/** Agents and their keys; an agent may read only itself (GET /v1/agents/me). */
export function registerAgentRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post('/v1/agents', async (request, reply) => {
    const created = engine.agents.create(principalOf(request), request.body, call(request));
    reply.code(201);
    return created;
  });

  app.get('/v1/agents', async (request) => ({ agents: engine.agents.list(principalOf(request)) }));

  app.get('/v1/agents/me', async (request) => {
    const principal = principalOf(request);
    if (principal.type !== 'agent') {
      throw new TalonError(
        'forbidden',
        'GET /v1/agents/me describes the calling agent; call it with an agent credential. People list agents at GET /v1/agents.',
      );
    }
    return engine.agents.get(principal, principal.id);
  });

  app.get<AgentParams>('/v1/agents/:agent_id', async (request) =>
    engine.agents.get(principalOf(request), request.params.agent_id),
  );

  app.patch<AgentParams>('/v1/agents/:agent_id', async (request) =>
    engine.agents.update(principalOf(request), request.params.agent_id, request.body, call(request)),
  );

  app.delete<AgentParams>('/v1/agents/:agent_id', async (request, reply) => {
    engine.agents.delete(principalOf(request), request.params.agent_id, call(request));
    return reply.code(204).send();
  });

  app.post<AgentParams>('/v1/agents/:agent_id/rotate-key', async (request) =>
    engine.agents.rotateKey(principalOf(request), request.params.agent_id, call(request)),
  );
}
