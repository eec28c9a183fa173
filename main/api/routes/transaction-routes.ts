import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { TransactionAnswer } from '../../engine/index.js';
import { principalOf } from '../authentication.js';
import { parseQuery, queryBoolean, queryInteger } from '../query-parameters.js';
import type { RouteContext } from '../route-context.js';

type AgentParams = { Params: { agent_id: string } };
type TransactionParams = { Params: { agent_id: string; tx_id: string } };
type KeyParams = { Params: { agent_id: string; chain: string } };

const listQuery = z.object({
  include_signed_tx: queryBoolean.optional(),
  limit: queryInteger(1, 1000).optional(),
  offset: queryInteger(0, 1_000_000_000).optional(),
});
const getQuery = z.object({ include_signed_tx: queryBoolean.optional() });

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  return Array.isArray(header) ? header[0] : header;
}

/**
 * The record, with 1Claw's status for it. A reverted simulate_first (422) also carries `code` and
 * `detail`, as problem details do, so clients that read those find the reason.
 */
function sendAnswer(reply: FastifyReply, answer: TransactionAnswer) {
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  const body =
    answer.statusCode === 422
      ? { ...answer.body, code: 'simulation_failed', detail: answer.body.error_message }
      : answer.body;
  return reply.code(answer.statusCode).send(body);
}

/**
 * 1Claw's Intents API for EVM chains (1claw-api.md §4.2): an agent's transactions, signed in the
 * token and sent when the chain has an RPC URL; and the agent's signing keys, which are never
 * exported. A transaction over the agent's auto-approve threshold answers 202 with its approval
 * (the server's error handler turns the engine's approval_required into that answer).
 */
export function registerTransactionRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post<AgentParams>('/v1/agents/:agent_id/transactions', async (request, reply) =>
    sendAnswer(
      reply,
      await engine.transactions.submit(
        principalOf(request),
        request.params.agent_id,
        request.body,
        call(request),
        idempotencyKeyOf(request),
      ),
    ),
  );

  app.post<AgentParams>('/v1/agents/:agent_id/transactions/sign', async (request, reply) =>
    sendAnswer(
      reply,
      await engine.transactions.sign(
        principalOf(request),
        request.params.agent_id,
        request.body,
        call(request),
        idempotencyKeyOf(request),
      ),
    ),
  );

  app.post<AgentParams>('/v1/agents/:agent_id/transactions/simulate', async (request) =>
    engine.transactions.simulate(principalOf(request), request.params.agent_id, request.body, call(request)),
  );

  app.get<AgentParams>('/v1/agents/:agent_id/transactions', async (request) => {
    const query = parseQuery(listQuery, request, 'transaction list request');
    return {
      transactions: engine.transactions.list(principalOf(request), request.params.agent_id, {
        ...(query.include_signed_tx !== undefined ? { includeSignedTx: query.include_signed_tx } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.offset !== undefined ? { offset: query.offset } : {}),
      }),
    };
  });

  app.get<TransactionParams>('/v1/agents/:agent_id/transactions/:tx_id', async (request) => {
    const query = parseQuery(getQuery, request, 'transaction request');
    return engine.transactions.get(principalOf(request), request.params.agent_id, request.params.tx_id, {
      includeSignedTx: query.include_signed_tx === true,
    });
  });

  app.get<AgentParams>('/v1/agents/:agent_id/signing-keys', async (request) => ({
    signing_keys: engine.signingKeys.list(principalOf(request), request.params.agent_id),
  }));

  app.post<AgentParams>('/v1/agents/:agent_id/signing-keys', async (request, reply) => {
    const key = await engine.signingKeys.provision(
      principalOf(request),
      request.params.agent_id,
      call(request),
    );
    return reply.code(201).send(key);
  });

  app.post<KeyParams>('/v1/agents/:agent_id/signing-keys/:chain/import', async (request, reply) => {
    const key = await engine.signingKeys.import(
      principalOf(request),
      request.params.agent_id,
      request.body,
      call(request),
    );
    return reply.code(201).send(key);
  });

  app.post<KeyParams>('/v1/agents/:agent_id/signing-keys/:chain/export', async (request) =>
    engine.signingKeys.export(principalOf(request), request.params.agent_id),
  );
}
