/**
 * The one error type of Talon. Every layer below the transports throws it (or a typed error that
 * the engine maps to it); every transport maps `code` to its status 1:1. Messages say what to do
 * next and never contain a secret value.
 */
export const talonErrorStatus = {
  invalid_input: 400,
  unauthenticated: 401,
  payment_required: 402,
  forbidden: 403,
  approval_required: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unprocessable: 422,
  locked: 423,
  rate_limited: 429,
  internal: 500,
  /** A request Talon sent for an agent (http_request) failed on the way or upstream. */
  bad_gateway: 502,
  /** A request Talon sent for an agent (http_request) ran out of time. */
  gateway_timeout: 504,
  hsm_unavailable: 503,
  /** The disk holding the database is full: nothing was written. */
  storage_full: 507,
} as const;

export type TalonErrorCode = keyof typeof talonErrorStatus;

export interface TalonErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class TalonError extends Error {
  readonly code: TalonErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: TalonErrorCode, message: string, options: TalonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TalonError';
    this.code = code;
    this.status = talonErrorStatus[code];
    this.details = options.details ?? {};
  }

  static is(value: unknown, code?: TalonErrorCode): value is TalonError {
    return value instanceof TalonError && (code === undefined || value.code === code);
  }
}

/**
 * Failures of the store that Talon can explain: SQLite's SQLITE_FULL (the disk, or the file's size
 * limit, is full) becomes `storage_full`. The transaction that hit it was rolled back. Any other
 * error is returned as it is.
 */
export function storageToTalonError(error: unknown): unknown {
  if ((error as { code?: unknown } | null)?.code !== 'SQLITE_FULL') return error;
  return new TalonError(
    'storage_full',
    "The disk that holds Talon's database is full, so nothing was written. Free some space on it, then retry.",
    { cause: error },
  );
}
