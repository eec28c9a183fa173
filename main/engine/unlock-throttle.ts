import type { Store } from '../store/store.js';
import { TalonError } from './talon-error.js';

/**
 * Growing delays after wrong PINs, passwords and TOTP codes: the first `freeFailures` cost
 * nothing, then each further attempt must wait 1 s, 2 s, 4 s … up to `maxDelaySeconds` after the
 * last failure. Counts live in the store, so restarting Talon does not reset them; a success
 * clears them. Subjects: `talon.unlock` (the token PIN and the owner's TOTP at unlock),
 * `user:<id>` (a user's password and second factor at login).
 */
export const throttleRule = { freeFailures: 3, firstDelaySeconds: 1, maxDelaySeconds: 300 } as const;

export function delayAfter(failures: number): number {
  const over = failures - throttleRule.freeFailures;
  if (over < 0) return 0;
  return Math.min(throttleRule.maxDelaySeconds, throttleRule.firstDelaySeconds * 2 ** Math.min(over, 30));
}

export class AttemptThrottle {
  constructor(private readonly store: Store) {}

  /** Seconds the subject must still wait before its next attempt; 0 when it may try now. */
  waitSeconds(subject: string, now: Date): number {
    const row = this.store.throttle.get(subject);
    if (!row) return 0;
    const readyAt = Date.parse(row.lastFailureAt) + delayAfter(row.failures) * 1000;
    return Math.max(0, Math.ceil((readyAt - now.getTime()) / 1000));
  }

  /** Throws `rate_limited` (429, Retry-After) while the subject must wait. */
  check(subject: string, now: Date, what: string): void {
    const wait = this.waitSeconds(subject, now);
    if (wait > 0) {
      throw new TalonError(
        'rate_limited',
        `Too many wrong ${what} attempts: wait ${wait} s before the next try (each further mistake doubles the wait).`,
        { details: { retry_after: wait } },
      );
    }
  }

  /** Counts a failure; returns how many in a row and the wait before the next try. */
  fail(subject: string, now: Date): { failures: number; retryAfter: number } {
    const failures = this.store.throttle.recordFailure(subject, now.toISOString());
    return { failures, retryAfter: delayAfter(failures) };
  }

  succeed(subject: string): void {
    this.store.throttle.clear(subject);
  }
}
