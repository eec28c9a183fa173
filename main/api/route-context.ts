import type { FastifyRequest } from 'fastify';
import type { CallContext, Engine } from '../engine/index.js';

/** What every route file is given: the engine, and the call context of a request. */
export interface RouteContext {
  engine: Engine;
  call: (request: FastifyRequest) => CallContext;
}
