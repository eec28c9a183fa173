import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import * as schemas from '../../main/engine/schemas.js';
import * as shareSchemas from '../../main/engine/share-service.js';
import * as transactionSchemas from '../../main/engine/transaction-request.js';
import { repositoryRoot } from '../cli/talon-process.js';
import type { JsonSchema } from './json-schema-arbitrary.js';

/**
 * The REST routes the fuzzer attacks. Routes are found in the route files themselves (every
 * `app.get('/v1/…')`-style registration under main/api/), so a route added tomorrow is fuzzed
 * without anyone touching this file. `bodySchemas` says which zod schema shapes a route's body;
 * a route without an entry gets bodies shaped like every known schema, and junk. To give a new
 * route realistic bodies, add one line there.
 */
export interface RestRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify's pattern: `:name` parameters and a trailing `*` for a secret path. */
  pattern: string;
}

/** Routes not fuzzed here, and why. */
const notFuzzed: { pattern: RegExp; why: string }[] = [
  { pattern: /^\/mcp$/u, why: 'MCP has its own fuzzer (tool arguments)' },
  {
    pattern: /^\/v1\/events$/u,
    why: 'a server-sent event stream that never ends; its refusals are tested in test/api',
  },
  { pattern: /^\/(?!v1\/)/u, why: 'the browser UI: static files and its session cookie' },
];

export function discoverRestRoutes(): { routes: RestRoute[]; skipped: string[] } {
  const found = new Map<string, RestRoute>();
  const registration =
    /\b\w+\.(get|post|put|patch|delete)\s*(?:<(?:[^<>]|<[^<>]*>)*>)?\(\s*['`]([^'`$]+)['`]/gu;
  const apiDir = join(repositoryRoot, 'main', 'api');
  const files = [
    ...readdirSync(apiDir)
      .filter((name) => name.endsWith('.ts'))
      .map((name) => join(apiDir, name)),
    ...readdirSync(join(apiDir, 'routes'))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => join(apiDir, 'routes', name)),
  ];
  const skipped: string[] = [];
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(registration)) {
      const method = match[1]!.toUpperCase() as RestRoute['method'];
      const pattern = match[2]!;
      if (!pattern.startsWith('/')) continue;
      if (notFuzzed.some((rule) => rule.pattern.test(pattern))) {
        skipped.push(`${method} ${pattern}`);
        continue;
      }
      found.set(`${method} ${pattern}`, { method, pattern });
    }
  }
  return { routes: [...found.values()].sort((a, b) => routeName(a).localeCompare(routeName(b))), skipped };
}

export const routeName = (route: RestRoute) => `${route.method} ${route.pattern}`;

const jsonSchemaOf = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

/** Body schemas by route; a schema that a helper renames or removes simply drops out. */
const schemaNames: Record<string, string> = {
  'PUT /v1/vaults/:vault_id/secrets/*': 'putSecretRequestSchema',
  'POST /v1/vaults/:vault_id/secret-rotate/*': 'rotateSecretRequestSchema',
  'POST /v1/vaults': 'createVaultRequestSchema',
  'POST /v1/vaults/:vault_id/policies': 'createPolicyRequestSchema',
  'PUT /v1/vaults/:vault_id/policies/:policy_id': 'updatePolicyRequestSchema',
  'POST /v1/agents': 'createAgentRequestSchema',
  'PATCH /v1/agents/:agent_id': 'updateAgentRequestSchema',
  'POST /v1/vaults/:vault_id/secrets-for-use': 'secretsForUseRequestSchema',
  'POST /v1/http-request': 'httpRequestSchema',
  'POST /v1/vaults/:vault_id/secret-requests': 'secretRequestSchema',
  'POST /v1/secret-requests/:approval_id/fulfil': 'fulfilSecretRequestSchema',
  'POST /v1/mcp/pairings': 'pairingRequestSchema',
  'POST /v1/talon/setup': 'setUpRequestSchema',
  'POST /v1/talon/unlock': 'unlockRequestSchema',
  'POST /v1/users': 'createUserRequestSchema',
  'PATCH /v1/users/:user_id': 'updateUserRequestSchema',
  'POST /v1/auth/token': 'loginRequestSchema',
  'POST /v1/auth/change-password': 'changePasswordRequestSchema',
  'POST /v1/auth/mfa/verify-setup': 'mfaVerifyRequestSchema',
  'POST /v1/auth/mfa/verify': 'mfaVerifyRequestSchema',
  'POST /v1/auth/mfa/disable': 'mfaCodeRequestSchema',
  'POST /v1/secrets/:secret_id/share': 'createShareRequestSchema',
  'POST /v1/agents/:agent_id/transactions': 'submitTransactionRequestSchema',
  'POST /v1/agents/:agent_id/transactions/sign': 'submitTransactionRequestSchema',
  'POST /v1/agents/:agent_id/transactions/simulate': 'simulateTransactionRequestSchema',
};

/** Where request schemas live: the shared registry, and the services that keep their own. */
const schemaModules: Record<string, unknown>[] = [schemas, shareSchemas, transactionSchemas];

export function bodySchemaFor(route: RestRoute): JsonSchema | undefined {
  const name = schemaNames[routeName(route)];
  const schema = name ? schemaModules.map((module) => module[name]).find((found) => found) : undefined;
  return schema instanceof z.ZodType ? jsonSchemaOf(schema) : undefined;
}

/** Every request schema the engine exports, for routes without an entry above. */
export function everyBodySchema(): JsonSchema[] {
  return schemaModules
    .flatMap((module) => Object.entries(module))
    .filter(([name, value]) => name.endsWith('RequestSchema') && value instanceof z.ZodType)
    .map(([, value]) => jsonSchemaOf(value as z.ZodType));
}

/**
 * Routes the fuzzer calls without the owner's credential: locking Talon would turn every later
 * input into a 423 (it is fuzzed with the other credentials, and tested in test/api).
 */
export function keepsOwnerCredentialAway(route: RestRoute): boolean {
  return route.method === 'POST' && route.pattern === '/v1/talon/lock';
}

/**
 * Adjustments a route's body needs for a fuzzer: a secret request would otherwise wait for a
 * human for up to 50 s.
 */
export function adjustBody(route: RestRoute, body: unknown): unknown {
  if (
    route.pattern.endsWith('/secret-requests') &&
    body !== null &&
    typeof body === 'object' &&
    !Array.isArray(body)
  ) {
    return { ...body, wait_seconds: 0 };
  }
  return body;
}
