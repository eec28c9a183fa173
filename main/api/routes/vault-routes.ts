import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../authentication.js';
import { parseQuery, queryBoolean } from '../query-parameters.js';
import type { RouteContext } from '../route-context.js';

type VaultParams = { Params: { vault_id: string } };

const deleteVaultQuerySchema = z.object({ force: queryBoolean.optional() });

export function registerVaultRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post('/v1/vaults', async (request, reply) => {
    const vault = await engine.vaults.create(principalOf(request), request.body, call(request));
    reply.code(201);
    return vault;
  });

  app.get('/v1/vaults', async (request) => ({ vaults: engine.vaults.list(principalOf(request)) }));

  app.get<VaultParams>('/v1/vaults/:vault_id', async (request) =>
    engine.vaults.get(principalOf(request), request.params.vault_id),
  );

  app.delete<VaultParams>('/v1/vaults/:vault_id', async (request, reply) => {
    const { force } = parseQuery(deleteVaultQuerySchema, request, 'vault delete request');
    engine.vaults.delete(principalOf(request), request.params.vault_id, call(request), {
      force: force ?? false,
    });
    return reply.code(204).send();
  });
}
