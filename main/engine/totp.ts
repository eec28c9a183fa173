import { createHmac, randomInt } from 'node:crypto';
import { generateSecret, generateURI, verifySync } from 'otplib';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { KeyRing } from './key-ring.js';
import type { BarrierVault, ValueBarrier, ValueBinding } from './value-barrier.js';

/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, as every authenticator app reads them) and one-time
 * recovery codes for human users. The TOTP secret is kept only sealed by the value barrier, its data
 * key wrapped by the token's key-encryption key (as a strict-mode secret value), so the database
 * alone never reveals it. Recovery codes are kept only as HMACs under the API-key subkey. Codes
 * are checked against the engine's clock, one step either side, and a step once used is refused
 * again (no replay within its 30 s).
 */
export const totpIssuer = 'Talon';
export const recoveryCodeCount = 10;

const period = 30;
const toleranceSeconds = 30;

/** What `users.totp_json` holds. */
export const storedTotpSchema = z.object({
  v: z.literal(1),
  status: z.enum(['pending', 'enabled']),
  sealed: z.string(),
  wrapped_dek: z.string(),
  last_step: z.number().int().nullable(),
  recovery: z.array(z.object({ hash: z.string(), used_at: z.string().nullable() })),
  enabled_at: z.string().nullable(),
});
export type StoredTotp = z.output<typeof storedTotpSchema>;

export function parseStoredTotp(json: string | null): StoredTotp | null {
  if (json === null) return null;
  return storedTotpSchema.parse(JSON.parse(json));
}

const totpVault = (userId: string): BarrierVault => ({
  id: `talon/totp/${userId}`,
  strictMode: true,
  wrappedKey: Buffer.alloc(0),
});
const totpBinding = (userId: string): ValueBinding => ({
  vaultId: 'talon/totp',
  path: userId,
  version: 1,
  type: 'totp',
});

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export async function sealTotpSecret(
  barrier: ValueBarrier,
  userId: string,
  secret: string,
): Promise<Pick<StoredTotp, 'sealed' | 'wrapped_dek'>> {
  const vault = totpVault(userId);
  const dataKey = await barrier.newDataKey(vault);
  const plaintext = Buffer.from(secret, 'utf8');
  try {
    const sealed = barrier.seal(dataKey, totpBinding(userId), plaintext);
    return { sealed: sealed.toString('base64'), wrapped_dek: dataKey.wrapped.toString('base64') };
  } finally {
    plaintext.fill(0);
    barrier.discard(dataKey);
  }
}

export async function openTotpSecret(
  barrier: ValueBarrier,
  userId: string,
  stored: StoredTotp,
): Promise<string> {
  const plaintext = await barrier.open(totpVault(userId), totpBinding(userId), {
    ciphertext: Buffer.from(stored.sealed, 'base64'),
    wrappedDek: Buffer.from(stored.wrapped_dek, 'base64'),
  });
  try {
    return plaintext.toString('utf8');
  } finally {
    plaintext.fill(0);
  }
}

/** The time step a code matched, or null. Steps at or before `afterStep` are refused (replay). */
export function matchTotp(secret: string, code: string, now: Date, afterStep: number | null): number | null {
  if (!/^[0-9]{6}$/u.test(code)) return null;
  const result = verifySync({
    secret,
    token: code,
    period,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: toleranceSeconds,
    ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

export function totpUri(secret: string, accountName: string): string {
  return generateURI({ issuer: totpIssuer, label: accountName, secret, period });
}

export function qrCodeDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 2, width: 256 });
}

const recoveryAlphabet = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten codes such as `k7m2q-x9c4t` (about 49 bits each), shown once. */
export function newRecoveryCodes(): string[] {
  const one = () =>
    Array.from({ length: 10 }, () => recoveryAlphabet[randomInt(recoveryAlphabet.length)]).join('');
  return Array.from({ length: recoveryCodeCount }, () => {
    const code = one();
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

export function looksLikeRecoveryCode(code: string): boolean {
  return /^[a-z0-9]{5}-?[a-z0-9]{5}$/iu.test(code.trim());
}

export function hashRecoveryCode(keyRing: KeyRing, code: string): string {
  const normalised = code.trim().toLowerCase().replace(/-/gu, '');
  return createHmac('sha256', keyRing.subkey('apiKey'))
    .update(`talon/recovery-code/v1|${normalised}`)
    .digest('base64');
}
