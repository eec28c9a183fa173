import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type PersonalKeyInfo, parseRequest } from '../../engine/index.js';
import { principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

const refusedField = (instead: string) =>
  z.null({ error: `is not supported by Talon, so it cannot be honoured; ${instead}` }).optional();

const createApiKeyRequestSchema = z.object(
  {
    name: z.string({ error: 'must be a name of 1 to 255 characters' }).trim().min(1).max(255),
    scopes: z
      .array(z.unknown(), { error: 'must be a list' })
      .max(0, { error: "must be empty or left out: a personal key acts with its owner's full rights" })
      .nullish(),
    expires_at: refusedField('revoke the key when it should stop working'),
  },
  { error: 'must be a JSON object' },
);

/** 1Claw's ApiKeyResponse; never the key, only its start. */
function apiKeyResponse(key: PersonalKeyInfo, now: Date) {
  const expired = key.expires_at !== null && Date.parse(key.expires_at) <= now.getTime();
  return {
    id: key.id,
    name: key.name,
    key_prefix: key.prefix,
    scopes: [] as string[],
    is_active: key.revoked_at === null && !expired,
    created_at: key.created_at,
    expires_at: key.expires_at,
    revoked_at: key.revoked_at,
  };
}

/** Public: exchanging an API key for a short-lived access token. */
export function registerTokenRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post('/v1/auth/agent-token', async (request) =>
    engine.auth.exchangeAgentToken(request.body, call(request)),
  );
  app.post('/v1/auth/api-key-token', async (request) =>
    engine.auth.exchangeApiKeyToken(request.body, call(request)),
  );
}

/** A human's personal API keys (`1ck_…`). */
export function registerApiKeyRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.get('/v1/auth/api-keys', async (request) => {
    const now = call(request).now;
    return {
      keys: engine.auth.listPersonalKeys(principalOf(request)).map((key) => apiKeyResponse(key, now)),
    };
  });

  app.post('/v1/auth/api-keys', async (request, reply) => {
    const body = parseRequest(createApiKeyRequestSchema, request.body, 'API key request');
    const context = call(request);
    const { api_key, ...created } = engine.auth.createPersonalKey(principalOf(request), body.name, context);
    reply.code(201);
    return {
      key: apiKeyResponse({ ...created, expires_at: null, revoked_at: null }, context.now),
      api_key,
    };
  });

  app.delete<{ Params: { key_id: string } }>('/v1/auth/api-keys/:key_id', async (request, reply) => {
    engine.auth.revokePersonalKey(principalOf(request), request.params.key_id, call(request));
    return reply.code(204).send();
  });
}
