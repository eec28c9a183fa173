import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { TalonError } from './talon-error.js';

/**
 * Passwords of human users, hashed with Node's scrypt: a fresh 16-byte salt per hash and the cost
 * parameters stored with it (`scrypt$N$r$p$salt$hash`, base64url), so a later Talon can raise the
 * cost and still check old hashes. Comparison is constant-time.
 */
const current = { N: 2 ** 15, r: 8, p: 1 } as const;
const keyLength = 32;
const saltLength = 16;

export const passwordLength = { min: 10, max: 1024 } as const;

/** The one rule for a new password; the message says what to do. */
export function checkNewPassword(password: string): void {
  if (password.length < passwordLength.min || password.length > passwordLength.max) {
    throw new TalonError(
      'invalid_input',
      `password: must be ${passwordLength.min} to ${passwordLength.max} characters long. Choose a longer passphrase.`,
    );
  }
}

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFKC'),
      salt,
      keyLength,
      { ...cost, maxmem: 128 * cost.N * cost.r * 2 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltLength);
  const hash = await derive(password, salt, current);
  return [
    'scrypt',
    current.N,
    current.r,
    current.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || N > 2 ** 20) return false;
  const expected = Buffer.from(parts[5]!, 'base64url');
  const actual = await derive(password, Buffer.from(parts[4]!, 'base64url'), { N, r, p });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
