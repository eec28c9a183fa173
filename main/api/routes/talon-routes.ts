import type { FastifyInstance } from 'fastify';
import { authenticateRequests, bearerCredential } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

/**
 * Talon's own routes under /v1/talon: first-run set-up, status, unlock and lock. Set-up, status and
 * unlock need no credential (there is none yet, or Talon is locked); the engine checks the PIN,
 * throttles wrong ones and audits every outcome.
 */
export function registerTalonRoutes(app: FastifyInstance, context: RouteContext): void {
  const { engine, call } = context;
  app.get('/v1/talon/status', async () => engine.lifecycle.status());

  app.post('/v1/talon/setup', async (request, reply) => {
    const result = await engine.lifecycle.setUp(request.body, call(request));
    reply.code(201);
    return result;
  });

  app.post('/v1/talon/unlock', async (request) => engine.lifecycle.unlock(request.body, call(request)));

  // Locking a locked Talon changes nothing and needs no credential; locking an unlocked one needs a human's.
  const authenticate = authenticateRequests(engine, call);
  app.post('/v1/talon/lock', async (request, reply) => {
    if (engine.isUnlocked) {
      bearerCredential(request.headers.authorization);
      await authenticate.call(app, request, reply);
      await engine.lifecycle.lock(request.principal, call(request), 'request');
    }
    return engine.lifecycle.status();
  });
}
