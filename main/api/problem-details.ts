import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TalonError, type TalonErrorCode, storageToTalonError, talonErrorStatus } from '../engine/index.js';
import { sendApprovalPending } from './approval-pending.js';

/**
 * Every error answer of the API is an RFC 7807 problem (`application/problem+json`), the shape
 * 1Claw's clients read: `type`, `title`, `status`, `detail`, plus Talon's `code` (the TalonError
 * code) and `request_id`. Detail texts come from the engine, which never puts a value in them;
 * of an error's details only the fields listed below go back to the client.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  [extension: string]: unknown;
}

/** Details an error may carry that are safe to return: never a value, a credential or raw input. */
const safeDetailFields = [
  'issues',
  'rule',
  'policy_id',
  'approval_id',
  'secret_count',
  'tries_left',
  'retry_after',
] as const;

/** An answer of the transport itself (no route, wrong media type), for which the engine has no code. */
interface TransportProblem {
  status: number;
  code: string;
  detail: string;
}

export const maxBodyBytes = 1024 * 1024;

/** Fastify's errors that Talon words itself, by their code. */
const fastifyProblems: Record<string, () => TalonError | TransportProblem> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new TalonError('invalid_input', 'The request body is not valid JSON. Send a JSON object.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new TalonError('invalid_input', 'The request body is empty. Send a JSON object.'),
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new TalonError(
      'payload_too_large',
      `The request body is larger than ${maxBodyBytes} bytes (1 MiB), the most Talon reads.`,
    ),
  FST_ERR_BAD_URL: () =>
    new TalonError(
      'invalid_input',
      'The URL is not valid percent-encoding: encode each path segment with encodeURIComponent.',
    ),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => ({
    status: 415,
    code: 'unsupported_media_type',
    detail: 'Talon reads request bodies as JSON only: send them with Content-Type: application/json.',
  }),
};

function codeForStatus(status: number): TalonErrorCode | undefined {
  return (Object.keys(talonErrorStatus) as TalonErrorCode[]).find(
    (code) => talonErrorStatus[code] === status,
  );
}

/** What an error becomes on the wire; null for an unexpected error (a 500 that must be logged). */
function knownProblem(thrown: unknown): TalonError | TransportProblem | null {
  const error = storageToTalonError(thrown);
  if (error instanceof TalonError) return error;
  const fastifyError = error as Partial<FastifyError> | null;
  const code = fastifyError?.code;
  if (typeof code === 'string' && code in fastifyProblems) return fastifyProblems[code]!();
  const status = fastifyError?.statusCode;
  // Fastify's other client errors (a bad Content-Length, say): their texts name no input values.
  if (typeof code === 'string' && code.startsWith('FST_') && typeof status === 'number' && status < 500) {
    return { status, code: codeForStatus(status) ?? 'invalid_input', detail: fastifyError?.message ?? '' };
  }
  return null;
}

export function problemDetails(problem: TalonError | TransportProblem, requestId: string): ProblemDetails {
  const isTalonError = problem instanceof TalonError;
  const detail = isTalonError ? problem.message : problem.detail;
  const body: ProblemDetails = {
    // 1Claw's SDK tells an approval gate from a plain 403 by this type.
    type: problem.code === 'approval_required' ? 'approval_required' : 'about:blank',
    title: STATUS_CODES[problem.status] ?? 'Error',
    status: problem.status,
    detail,
    code: problem.code,
    request_id: requestId,
  };
  if (isTalonError) {
    for (const field of safeDetailFields) {
      if (problem.details[field] !== undefined) body[field] = problem.details[field];
    }
    if (problem.code === 'rate_limited' && typeof body.retry_after !== 'number') body.retry_after = 1;
  }
  return body;
}

export function sendProblem(reply: FastifyReply, problem: ProblemDetails): FastifyReply {
  reply
    .code(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    // Also set by the server's onSend hook, which does not run for errors raised before routing.
    .header('x-request-id', problem.request_id);
  if (typeof problem.retry_after === 'number') reply.header('retry-after', String(problem.retry_after));
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="talon"');
  return reply.send(JSON.stringify(problem));
}

/** Answers any error as a problem; an unexpected one is logged, and answered without its text. */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const pending = sendApprovalPending(error, request, reply);
  if (pending) return pending;
  const known = knownProblem(error);
  if (known) return sendProblem(reply, problemDetails(known, request.id));
  // The engine's messages hold no values, and nothing else here sees one: the error may be logged.
  request.log.error({ err: error }, 'unexpected error while answering a request');
  return sendProblem(
    reply,
    problemDetails(
      {
        status: 500,
        code: 'internal',
        detail: `Talon hit an unexpected error. Its log has the details under request id ${request.id}.`,
      },
      request.id,
    ),
  );
}

/** One error handler and one not-found handler for the whole server. */
export function answerErrorsAsProblems(app: FastifyInstance): void {
  app.setErrorHandler(sendError);

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '';
    const shown = path.length > 200 ? `${path.slice(0, 197)}...` : path;
    return sendProblem(
      reply,
      problemDetails(
        new TalonError(
          'not_found',
          `Talon has no route ${request.method} ${shown}. The API lives under /v1, on 1Claw's paths.`,
        ),
        request.id,
      ),
    );
  });
}
