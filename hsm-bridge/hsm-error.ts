import pkcs11js from 'pkcs11js';

/**
 * Typed errors of the token. The engine maps them to TalonError (`hsm_unavailable` -> 503,
 * `wrong_pin` -> 401, ...); hsm-bridge knows nothing above it. Messages say what to do next.
 */
export type HsmErrorKind =
  | 'wrong_pin'
  | 'invalid_pin'
  | 'pin_locked'
  | 'hsm_unavailable'
  | 'mechanism_unsupported'
  | 'key_not_found'
  | 'key_exists'
  | 'invalid_blob'
  | 'not_logged_in'
  | 'token_error';

export interface HsmErrorOptions {
  /** The CKR_* name and code the token returned, when one did. */
  ckr?: { name: string; code: number };
  /** Tries left before the token locks the PIN, when the token says. */
  triesLeft?: number;
  cause?: unknown;
}

export class HsmError extends Error {
  readonly kind: HsmErrorKind;
  readonly ckr: { name: string; code: number } | undefined;
  readonly triesLeft: number | undefined;

  constructor(kind: HsmErrorKind, message: string, options: HsmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HsmError';
    this.kind = kind;
    this.ckr = options.ckr;
    this.triesLeft = options.triesLeft;
  }
}

const ckrNames = new Map<number, string>(
  Object.entries(pkcs11js)
    .filter(([name, value]) => name.startsWith('CKR_') && typeof value === 'number')
    .map(([name, value]) => [value as number, name]),
);

export function ckrName(code: number): string {
  return ckrNames.get(code) ?? `CKR_0x${code.toString(16)}`;
}

/** The CKR_* code of an error thrown by pkcs11js, or undefined for any other error. */
export function ckrCode(error: unknown): number | undefined {
  if (error instanceof pkcs11js.Pkcs11Error) return error.code;
  return undefined;
}

const unavailableCodes = new Set<number>([
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_DEVICE_ERROR,
  pkcs11js.CKR_DEVICE_MEMORY,
  pkcs11js.CKR_SLOT_ID_INVALID,
  pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED,
  pkcs11js.CKR_GENERAL_ERROR,
]);

/** Codes after which the session (or the login) is gone and the pool should reconnect. */
export const sessionLostCodes = new Set<number>([
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_USER_NOT_LOGGED_IN,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_DEVICE_REMOVED,
]);

/** Codes after which a cached object handle is stale: look the key up by label again. */
export const staleHandleCodes = new Set<number>([
  pkcs11js.CKR_OBJECT_HANDLE_INVALID,
  pkcs11js.CKR_KEY_HANDLE_INVALID,
]);

/** Translate a pkcs11js error into an HsmError, naming what was being done. */
export function toHsmError(error: unknown, doing: string): HsmError {
  if (error instanceof HsmError) return error;
  const code = ckrCode(error);
  if (code === undefined) {
    return new HsmError(
      'token_error',
      `The token failed while ${doing}: ${(error as Error)?.message ?? error}`,
      {
        cause: error,
      },
    );
  }
  const ckr = { name: ckrName(code), code };
  if (
    code === pkcs11js.CKR_PIN_INCORRECT ||
    code === pkcs11js.CKR_PIN_INVALID ||
    code === pkcs11js.CKR_PIN_LEN_RANGE
  ) {
    return new HsmError('wrong_pin', 'The token PIN is wrong. Check it and try again.', {
      ckr,
      cause: error,
    });
  }
  if (code === pkcs11js.CKR_PIN_LOCKED) {
    return new HsmError(
      'pin_locked',
      "The token's user PIN is locked after too many wrong tries. Unlock it with the security officer PIN (SoftHSM2: softhsm2-util; YubiHSM 2: yubihsm-shell) and try again.",
      { ckr, cause: error },
    );
  }
  if (code === pkcs11js.CKR_MECHANISM_INVALID || code === pkcs11js.CKR_MECHANISM_PARAM_INVALID) {
    return new HsmError(
      'mechanism_unsupported',
      `The token does not support the mechanism needed for ${doing} (${ckr.name}).`,
      {
        ckr,
        cause: error,
      },
    );
  }
  if (code === pkcs11js.CKR_USER_NOT_LOGGED_IN) {
    return new HsmError(
      'not_logged_in',
      `The token is not logged in (${doing}). Unlock Talon with the token PIN.`,
      {
        ckr,
        cause: error,
      },
    );
  }
  if (unavailableCodes.has(code)) {
    return new HsmError(
      'hsm_unavailable',
      `The token is unavailable (${ckr.name} while ${doing}). Check that it is connected and its PKCS#11 module works, then retry.`,
      { ckr, cause: error },
    );
  }
  return new HsmError('token_error', `The token refused ${doing} (${ckr.name}).`, { ckr, cause: error });
}
