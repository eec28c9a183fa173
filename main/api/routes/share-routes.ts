import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TalonError } from '../../engine/index.js';
import { bearerCredential, principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

type SecretParams = { Params: { secret_id: string } };
type ShareParams = { Params: { share_id: string } };

/** `share_url` as the caller reached Talon (its Host header, already checked by the request guard). */
function absolute<T extends { share_url: string }>(request: FastifyRequest, share: T): T {
  const host = request.headers.host;
  return host ? { ...share, share_url: `${request.protocol}://${host}${share.share_url}` } : share;
}

/**
 * Shares, on 1Claw's paths: created against the secret's id, listed, accepted or declined by their
 * recipient, revoked by their creator (singular `/v1/share/{id}` for revoke and access, plural
 * `/v1/shares/...` for the rest, as 1Claw has them).
 */
export function registerShareRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post<SecretParams>('/v1/secrets/:secret_id/share', async (request, reply) => {
    const share = await engine.shares.create(
      principalOf(request),
      request.params.secret_id,
      request.body,
      call(request),
    );
    reply.code(201);
    return absolute(request, share);
  });

  app.get('/v1/shares/outbound', async (request) => ({
    shares: engine.shares.listOutbound(principalOf(request), call(request)).map((s) => absolute(request, s)),
  }));

  app.get('/v1/shares/inbound', async (request) => ({
    shares: engine.shares.listInbound(principalOf(request), call(request)).map((s) => absolute(request, s)),
  }));

  app.post<ShareParams>('/v1/shares/:share_id/accept', async (request, reply) => {
    engine.shares.accept(principalOf(request), request.params.share_id, call(request));
    return reply.code(204).send();
  });

  app.post<ShareParams>('/v1/shares/:share_id/decline', async (request, reply) => {
    engine.shares.decline(principalOf(request), request.params.share_id, call(request));
    return reply.code(204).send();
  });

  app.delete<ShareParams>('/v1/share/:share_id', async (request, reply) => {
    engine.shares.revoke(principalOf(request), request.params.share_id, call(request));
    return reply.code(204).send();
  });
}

/**
 * `GET /v1/share/{id}`: public, as in 1Claw (the link is the credential for link and email
 * shares); a targeted share needs its recipient's credential, sent as usual. The passphrase, when
 * the share has one, goes in `X-Share-Passphrase` (never the URL, which logs and histories keep).
 */
export function registerShareAccessRoute(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.get<ShareParams>('/v1/share/:share_id', async (request) => {
    const context = call(request);
    const header = request.headers.authorization;
    const principal =
      header === undefined ? null : await engine.auth.authenticate(bearerCredential(header), context);
    const passphrase = request.headers['x-share-passphrase'];
    if (Array.isArray(passphrase)) {
      throw new TalonError('invalid_input', 'Send X-Share-Passphrase once.');
    }
    return engine.shares.access(
      principal,
      request.params.share_id,
      passphrase === undefined ? {} : { passphrase },
      context,
    );
  });
}
