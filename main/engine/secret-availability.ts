import type { SecretRow, Store } from '../store/store.js';
import type { CallContext } from './principal.js';
import { TalonError } from './talon-error.js';

/**
 * When a secret's value may still be given out, for reads and uses alike: unknown paths answer
 * 404, deleted, expired and exhausted secrets 410 (as 1Claw does).
 */
export function secretNotFound(path: string): TalonError {
  return new TalonError(
    'not_found',
    `No secret found at path '${path}'. List secrets to see which paths exist.`,
  );
}

export function secretGone(path: string, why: string): TalonError {
  return new TalonError('gone', `Secret at path '${path}' ${why}.`);
}

/** The secret, if it exists, is not deleted or expired, and has accesses left. */
export function requireAvailableSecret(
  path: string,
  secret: SecretRow | undefined,
  call: CallContext,
): SecretRow {
  if (!secret) throw secretNotFound(path);
  if (secret.deletedAt) throw secretGone(path, 'has been deleted');
  if (secret.expiresAt && Date.parse(secret.expiresAt) <= call.now.getTime()) {
    throw secretGone(path, 'has expired');
  }
  if (secret.maxAccessCount > 0 && secret.accessCount >= secret.maxAccessCount) {
    throw secretGone(path, 'has reached its maximum access count');
  }
  return secret;
}

/**
 * Counts one access of a secret with a `max_access_count`. Call it inside `Store.transaction`, so
 * that the limit is checked and the count raised atomically across processes; the caller appends
 * its audit entry in the same transaction.
 */
export function countLimitedAccess(
  store: Store,
  secretId: string,
  path: string,
): { secret: SecretRow; accessCount: number } {
  const secret = store.secrets.getSecretById(secretId);
  if (!secret || secret.deletedAt) throw secretGone(path, 'has been deleted');
  if (secret.maxAccessCount > 0 && secret.accessCount >= secret.maxAccessCount) {
    throw secretGone(path, 'has reached its maximum access count');
  }
  return { secret, accessCount: store.secrets.incrementAccessCount(secretId)! };
}
