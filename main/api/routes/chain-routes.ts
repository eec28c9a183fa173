import type { FastifyInstance } from 'fastify';
import { principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

type ChainParams = { Params: { identifier: string } };

/**
 * 1Claw's chains registry (`GET /v1/chains`, by name or id), and Talon's way for the human to
 * point a chain at an RPC endpoint (`PUT /v1/chains/{identifier}` with `{ rpc_url }`, or
 * `rpc_url: null` to sign only). Agents see whether a chain has an RPC URL, never the URL.
 */
export function registerChainRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.get('/v1/chains', async (request) => ({ chains: engine.chains.list(principalOf(request)) }));

  app.get<ChainParams>('/v1/chains/:identifier', async (request) =>
    engine.chains.get(principalOf(request), request.params.identifier),
  );

  app.put<ChainParams>('/v1/chains/:identifier', async (request) =>
    engine.chains.setRpcUrl(principalOf(request), request.params.identifier, request.body, call(request)),
  );
}
