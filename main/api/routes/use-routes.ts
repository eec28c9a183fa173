import type { FastifyInstance } from 'fastify';
import { principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

type VaultParams = { Params: { vault_id: string } };

/**
 * Using secrets without seeing them (Talon's own paths; 1Claw has no equivalent):
 * - `POST /v1/vaults/{id}/secrets-for-use` {paths, prefixes}: values for `talon run` to inject,
 *   for a caller with `use` (read implies it); each audited as `secret.use`.
 * - `POST /v1/http-request` {method, url, headers, body, vault_id}: Talon sends the request with
 *   the `{{secret:path}}` placeholders filled in and answers with the values masked. The vault
 *   may come from `X-Vault-ID` instead.
 * - `POST /v1/vaults/{id}/secret-requests` {path, description, type}: an agent asks the human
 *   to store a credential: 202 with the approval while pending, then (resubmitted with
 *   X-Approval-ID, or simply again) 200 with where it was stored, never the value.
 * - `POST /v1/secret-requests/{approval_id}/fulfil` {value, metadata}: the human stores it.
 */
export function registerUseRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post<VaultParams>('/v1/vaults/:vault_id/secrets-for-use', async (request) =>
    engine.use.resolve(principalOf(request), request.params.vault_id, request.body, call(request)),
  );

  app.post('/v1/http-request', async (request) => {
    const header = request.headers['x-vault-id'];
    return engine.use.httpRequest(
      principalOf(request),
      request.body,
      call(request),
      typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined,
    );
  });

  app.post<VaultParams>('/v1/vaults/:vault_id/secret-requests', async (request) =>
    engine.use.requestSecret(principalOf(request), request.params.vault_id, request.body, call(request)),
  );

  app.post<{ Params: { approval_id: string } }>(
    '/v1/secret-requests/:approval_id/fulfil',
    async (request, reply) => {
      const secret = await engine.use.fulfilSecretRequest(
        principalOf(request),
        request.params.approval_id,
        request.body,
        call(request),
      );
      reply.code(201);
      return secret;
    },
  );
}
