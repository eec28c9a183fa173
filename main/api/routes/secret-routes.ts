import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../authentication.js';
import { parseQuery, queryBoolean, queryInteger, queryText } from '../query-parameters.js';
import type { RouteContext } from '../route-context.js';
import { secretPathAndVersionInUrl, secretPathInUrl } from '../secret-path-in-url.js';

type VaultParams = { Params: { vault_id: string } };

const listSecretsQuerySchema = z.object({
  prefix: queryText(1024).optional(),
  cursor: queryText(1024).optional(),
  limit: queryInteger(1, 1000).optional(),
  include_deleted: queryBoolean.optional(),
});

/**
 * Secrets, on 1Claw's paths: the secret path is the rest of the URL (see secret-path-in-url.ts),
 * and routes that name a version end with it. Talon's extras (restore, purge, rollback, describe)
 * follow the same pattern.
 */
export function registerSecretRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.get<VaultParams>('/v1/vaults/:vault_id/secrets', async (request) => {
    const query = parseQuery(listSecretsQuerySchema, request, 'secret list request');
    return engine.secrets.list(principalOf(request), request.params.vault_id, call(request), {
      prefix: query.prefix,
      after: query.cursor,
      limit: query.limit,
      includeDeleted: query.include_deleted,
    });
  });

  app.put<VaultParams>('/v1/vaults/:vault_id/secrets/*', async (request, reply) => {
    const secret = await engine.secrets.put(
      principalOf(request),
      request.params.vault_id,
      secretPathInUrl(request),
      request.body,
      call(request),
    );
    reply.code(201);
    return secret;
  });

  app.get<VaultParams>('/v1/vaults/:vault_id/secrets/*', async (request) =>
    engine.secrets.get(
      principalOf(request),
      request.params.vault_id,
      secretPathInUrl(request),
      call(request),
    ),
  );

  app.delete<VaultParams>('/v1/vaults/:vault_id/secrets/*', async (request, reply) => {
    await engine.secrets.delete(
      principalOf(request),
      request.params.vault_id,
      secretPathInUrl(request),
      call(request),
    );
    return reply.code(204).send();
  });

  app.get<VaultParams>('/v1/vaults/:vault_id/secret-versions/*', async (request) => ({
    versions: engine.secrets.versions(
      principalOf(request),
      request.params.vault_id,
      secretPathInUrl(request),
      call(request),
    ),
  }));

  app.get<VaultParams>('/v1/vaults/:vault_id/secret-version/*', async (request) => {
    const { path, version } = secretPathAndVersionInUrl(request);
    return engine.secrets.get(principalOf(request), request.params.vault_id, path, call(request), version);
  });

  app.post<VaultParams>('/v1/vaults/:vault_id/secret-version-disable/*', async (request, reply) => {
    const { path, version } = secretPathAndVersionInUrl(request);
    engine.secrets.disableVersion(
      principalOf(request),
      request.params.vault_id,
      path,
      version,
      call(request),
    );
    return reply.code(204).send();
  });

  app.post<VaultParams>('/v1/vaults/:vault_id/secret-rotate/*', async (request, reply) => {
    const secret = await engine.secrets.rotate(
      principalOf(request),
      request.params.vault_id,
      secretPathInUrl(request),
      request.body,
      call(request),
    );
    reply.code(201);
    return secret;
  });

  app.post<VaultParams>('/v1/vaults/:vault_id/secret-restore/*', async (request) =>
    engine.secrets.restore(
      principalOf(request),
      request.params.vault_id,
      secretPathInUrl(request),
      call(request),
    ),
  );

  app.delete<VaultParams>('/v1/vaults/:vault_id/secret-purge/*', async (request, reply) => {
    engine.secrets.purge(
      principalOf(request),
      request.params.vault_id,
      secretPathInUrl(request),
      call(request),
    );
    return reply.code(204).send();
  });

  app.post<VaultParams>('/v1/vaults/:vault_id/secret-rollback/*', async (request, reply) => {
    const { path, version } = secretPathAndVersionInUrl(request);
    const secret = await engine.secrets.rollback(
      principalOf(request),
      request.params.vault_id,
      path,
      version,
      call(request),
    );
    reply.code(201);
    return secret;
  });

  app.get<VaultParams>('/v1/vaults/:vault_id/secret-describe/*', async (request) =>
    engine.secrets.describe(
      principalOf(request),
      request.params.vault_id,
      secretPathInUrl(request),
      call(request),
    ),
  );
}
