import type { FastifyInstance } from 'fastify';
import { principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

/** Public: 1Claw's password login, `POST /v1/auth/token` (→ a session, or `mfa_required` + `mfa_token`). */
export function registerLoginRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post('/v1/auth/token', async (request) => engine.users.login(request.body, call(request)));
}

/** Human users: the owner adds, lists and disables them; each user sees themself and sets a password. */
export function registerUserRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.get('/v1/auth/me', async (request) => engine.users.me(principalOf(request)));

  app.post('/v1/auth/change-password', async (request, reply) => {
    await engine.users.changePassword(principalOf(request), request.body, call(request));
    return reply.code(204).send();
  });

  app.get('/v1/users', async (request) => ({ users: engine.users.list(principalOf(request)) }));

  app.post('/v1/users', async (request, reply) => {
    const user = await engine.users.create(principalOf(request), request.body, call(request));
    reply.code(201);
    return user;
  });

  app.get<{ Params: { user_id: string } }>('/v1/users/:user_id', async (request) =>
    engine.users.get(principalOf(request), request.params.user_id),
  );

  app.patch<{ Params: { user_id: string } }>('/v1/users/:user_id', async (request) =>
    engine.users.update(principalOf(request), request.params.user_id, request.body, call(request)),
  );

  // As 1Claw's agent DELETE: disables (every credential of the user stops), keeps the record and its audit trail.
  app.delete<{ Params: { user_id: string } }>('/v1/users/:user_id', async (request, reply) => {
    engine.users.disable(principalOf(request), request.params.user_id, call(request));
    return reply.code(204).send();
  });
}
