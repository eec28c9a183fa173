import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { type CallContext, type Engine, type Principal, TalonError } from '../engine/index.js';
import { approvalIdOf } from './approval-pending.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by the authentication pre-handler on every authenticated route. */
    principal: Principal | null;
  }
}

const howToAuthenticate =
  'Send Authorization: Bearer <credential>, where the credential is an agent API key (ocv_…), ' +
  'the access token POST /v1/auth/agent-token returns for it, or a personal API key (1ck_…).';

/** The request around an engine call: source address, time, request id, and that it came over REST. */
export function callContext(request: FastifyRequest, now: () => Date): CallContext {
  const approvalId = approvalIdOf(request);
  const client = request.headers['x-talon-client'];
  const reason = request.headers['x-approval-reason'];
  return {
    ip: request.ip,
    now: now(),
    requestId: request.id,
    via: 'rest',
    ...(approvalId ? { approvalId } : {}),
    ...(typeof client === 'string' && client.trim() ? { client: client.trim().slice(0, 100) } : {}),
    ...(typeof reason === 'string' && reason.trim() ? { approvalReason: reason.trim().slice(0, 500) } : {}),
  };
}

/**
 * The credential of `Authorization: Bearer <credential>`; otherwise 401 saying how to
 * authenticate, or `refusal` where a transport must answer in its own words (MCP).
 */
export function bearerCredential(header: string | undefined, refusal?: string): string {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/iu.exec(header);
  if (match) return match[1]!;
  if (refusal !== undefined) throw new TalonError('unauthenticated', refusal);
  throw new TalonError(
    'unauthenticated',
    header === undefined || header.trim() === ''
      ? `This request needs a credential. ${howToAuthenticate}`
      : `The Authorization header is not a Bearer credential. ${howToAuthenticate}`,
  );
}

/** The pre-handler of every authenticated route: the engine decides who the credential belongs to. */
export function authenticateRequests(
  engine: Engine,
  call: (request: FastifyRequest) => CallContext,
): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const credential = bearerCredential(request.headers.authorization);
    request.principal = await engine.auth.authenticate(credential, call(request));
  };
}

/** The caller of an authenticated route. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new TalonError('unauthenticated', howToAuthenticate);
  return request.principal;
}
