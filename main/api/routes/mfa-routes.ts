import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

/** Public: the second step of a login that answered `mfa_required` (1Claw's mfaVerify). */
export function registerMfaVerifyRoute(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post('/v1/auth/mfa/verify', async (request) =>
    engine.users.verifyMfaLogin(request.body, call(request)),
  );
}

/** The caller's own TOTP two-factor: 1Claw's `/v1/auth/mfa/*`. */
export function registerMfaRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.get('/v1/auth/mfa/status', async (request) => engine.users.mfaStatus(principalOf(request)));

  app.post('/v1/auth/mfa/setup', async (request) =>
    engine.users.mfaSetUp(principalOf(request), call(request)),
  );

  app.post('/v1/auth/mfa/verify-setup', async (request) =>
    engine.users.mfaVerifySetUp(principalOf(request), request.body, call(request)),
  );

  const disable = async (request: FastifyRequest) =>
    engine.users.mfaDisable(principalOf(request), request.body, call(request));
  app.delete('/v1/auth/mfa', disable);
  app.post('/v1/auth/mfa/disable', disable);
}
