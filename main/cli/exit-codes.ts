/**
 * The exit status of `talon` for each of Talon's error codes, in one table, so a script can tell
 * a locked Talon from a refused credential without reading messages. Codes Talon adds later fall
 * back to 1.
 */
export const exitCodes = {
  ok: 0,
  internal: 1,
  invalid_input: 2,
  unprocessable: 2,
  payload_too_large: 2,
  usage: 2,
  unauthenticated: 3,
  forbidden: 4,
  payment_required: 4,
  not_found: 5,
  conflict: 6,
  gone: 7,
  locked: 8,
  rate_limited: 9,
  approval_required: 10,
  talon_unreachable: 11,
  hsm_unavailable: 11,
  integrity: 12,
  bad_gateway: 13,
  gateway_timeout: 13,
  storage_full: 14,
} as const;

export function exitCodeFor(code: string): number {
  return (exitCodes as Record<string, number>)[code] ?? 1;
}

/** The table as README and `talon --help` show it. */
export const exitCodeHelp = `Exit codes:
  0   success
  1   unexpected error
  2   bad input or usage (invalid_input)
  3   no or refused credential (unauthenticated): talon login, or set ONECLAW_API_KEY
  4   not allowed (forbidden)
  5   not found
  6   conflict (exists already, Talon running on the data folder)
  7   gone (expired, deleted, access count spent)
  8   Talon is locked: talon unlock
  9   rate limited
  10  a human must approve first (approval_required): talon approval list
  11  Talon or its token cannot be reached
  12  integrity check failed (audit chain, backup)
  13  a request Talon made for you failed or timed out (bad_gateway, gateway_timeout)
  14  Talon's disk is full (storage_full)`;
