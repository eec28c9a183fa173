/**
 * A refusal or failure, as Talon's `/v1` states it in its RFC 7807 problem details: the HTTP
 * status, Talon's error code (`not_found`, `locked`, …) and the message, which says what to do
 * next and never holds a secret value. A Talon that cannot be reached is one too
 * (`talon_unreachable`, status 503).
 */
export class TalonClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  /** The problem's `request_id` (also in Talon's log). */
  readonly requestId: string | undefined;
  /** Seconds to wait before trying again (429). */
  readonly retryAfter: number | undefined;
  /** The whole problem body, for fields such as `issues` or `approval_id`. */
  readonly problem: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    detail: string,
    extra: { requestId?: string; retryAfter?: number; problem?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.name = 'TalonClientError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.requestId = extra.requestId;
    this.retryAfter = extra.retryAfter;
    this.problem = extra.problem ?? {};
  }

  static is(value: unknown, code?: string): value is TalonClientError {
    return value instanceof TalonClientError && (code === undefined || value.code === code);
  }
}

/** The problem details of a non-2xx answer as a TalonClientError; a body that is not one still gives its status. */
export function problemToError(
  status: number,
  text: string,
  retryAfterHeader: string | null,
): TalonClientError {
  let problem: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      problem = parsed as Record<string, unknown>;
  } catch {
    // Not problem details (a proxy's page, say): the status alone speaks.
  }
  const pick = (field: string) =>
    typeof problem[field] === 'string' ? (problem[field] as string) : undefined;
  const retryAfter =
    typeof problem.retry_after === 'number'
      ? problem.retry_after
      : retryAfterHeader !== null && /^\d+$/u.test(retryAfterHeader)
        ? Number(retryAfterHeader)
        : undefined;
  const detail = pick('detail') || pick('message') || pick('error') || `HTTP ${status}`;
  return new TalonClientError(status, pick('code') ?? codeOfStatus(status), detail, {
    requestId: pick('request_id'),
    retryAfter,
    problem,
  });
}

/** Talon's code for a status, when an answer (from 1Claw, or a proxy) carries none. */
function codeOfStatus(status: number): string {
  const codes: Record<number, string> = {
    400: 'invalid_input',
    401: 'unauthenticated',
    402: 'payment_required',
    403: 'forbidden',
    404: 'not_found',
    409: 'conflict',
    410: 'gone',
    413: 'payload_too_large',
    422: 'unprocessable',
    423: 'locked',
    429: 'rate_limited',
    503: 'hsm_unavailable',
  };
  return codes[status] ?? (status >= 500 ? 'internal' : `http_${status}`);
}
