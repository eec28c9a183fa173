import type { FastifyInstance } from 'fastify';
import { type EngineEvent, TalonError } from '../../engine/index.js';
import { principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

/** A comment line every 15 s keeps proxies and the client's idle timers from closing a quiet stream. */
export const heartbeatMs = 15_000;

/**
 * `GET /v1/events`: a Server-Sent Events stream for people (the desktop app, `talon watch`), so
 * they hear of new and decided approvals without polling. Events: `approval.created`,
 * `approval.decided`, `approval.expired` (data: the approval), `talon.unlocked`, `talon.locked`
 * (data: `{ at }`); the stream ends after `talon.locked`, since nothing can be decided while
 * locked. Agents are refused: the queue is the humans' view.
 */
export function registerEventRoutes(app: FastifyInstance, { engine }: RouteContext): void {
  const open = new Set<() => void>();
  // Open streams would otherwise hold the server's connections when it closes.
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });
  app.get('/v1/events', async (request, reply) => {
    const principal = principalOf(request);
    if (principal.type !== 'user') {
      throw new TalonError('forbidden', 'The event stream is for people; agents poll their own approvals.');
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
      'x-request-id': request.id,
      'x-accel-buffering': 'no',
    });
    raw.write(': talon events\n\n');
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      open.delete(close);
      unsubscribe();
      clearInterval(heartbeat);
      raw.end();
    };
    const send = (event: EngineEvent) => {
      if (closed) return;
      const data = 'approval' in event ? event.approval : { at: event.at };
      raw.write(`event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`);
      if (event.type === 'talon.locked') close();
    };
    const unsubscribe = engine.events.subscribe(send);
    const heartbeat = setInterval(() => {
      if (!closed) raw.write(': heartbeat\n\n');
    }, heartbeatMs);
    heartbeat.unref();
    open.add(close);
    raw.on('close', close);
  });
}
