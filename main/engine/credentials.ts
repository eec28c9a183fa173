import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { KeyRing } from './key-ring.js';
import { TalonError } from './talon-error.js';

/**
 * Credentials: API keys (`ocv_…` for agents, `1ck_…` personal keys of users — the prefixes
 * 1Claw's clients use to choose a flow) and short-lived JWTs. Keys are shown once and stored only
 * as an HMAC under the API-key subkey; JWTs are HS256 under the JWT subkey. Both subkeys come
 * from the token's HMAC key at unlock.
 */
export const apiKeyPrefixes = { agent: 'ocv_', user: '1ck_' } as const;

export function generateApiKey(kind: keyof typeof apiKeyPrefixes): string {
  return `${apiKeyPrefixes[kind]}${randomBytes(32).toString('base64url')}`;
}

/** What identifies a key in lists (`ocv_AbCd…`), safe to show and log. */
export function apiKeyHint(key: string): string {
  return `${key.slice(0, 8)}…`;
}

export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(apiKeyPrefixes.agent) || credential.startsWith(apiKeyPrefixes.user);
}

export function hashApiKey(keyRing: KeyRing, key: string): Buffer {
  return createHmac('sha256', keyRing.subkey('apiKey')).update(key, 'utf8').digest();
}

export interface TokenClaims {
  sub: string;
  scopes?: string[];
  vault_ids?: string[];
  /**
   * Set only on tokens that are not credentials, such as the `mfa` token of a login waiting for its
   * second factor: verifyToken refuses them, verifyPurposeToken accepts only its own purpose.
   */
  purpose?: 'mfa';
}

export interface VerifiedToken {
  principalType: 'user' | 'agent';
  principalId: string;
  scopes?: string[];
  vaultIds?: string[];
  expiresAt: number;
}

/** Clock skew tolerated when checking `exp` and `iat`. */
const clockToleranceSeconds = 30;
const maxTokenLength = 8192;

export async function signToken(
  keyRing: KeyRing,
  claims: TokenClaims,
  ttlSeconds: number,
  now: Date,
): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('talon')
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(keyRing.subkey('jwt'));
}

/** Verify a JWT: HS256 only, issuer `talon`, not expired, subject `agent:<id>` or `user:<id>`. */
export async function verifyToken(keyRing: KeyRing, token: string, now: Date): Promise<VerifiedToken> {
  const key = keyRing.subkey('jwt');
  if (token.length > maxTokenLength) throw invalidToken('it is too long');
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: 'talon',
      clockTolerance: clockToleranceSeconds,
      currentDate: now,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    if (payload.purpose !== undefined) throw invalidToken('it is not an access token');
    const match = /^(agent|user):([0-9a-f-]{36})$/.exec(String(payload.sub));
    if (!match) throw invalidToken('its subject is not a Talon principal');
    const scopes = payload.scopes;
    const vaultIds = payload.vault_ids;
    return {
      principalType: match[1] as 'agent' | 'user',
      principalId: match[2]!,
      ...(Array.isArray(scopes) ? { scopes: scopes.map(String) } : {}),
      ...(Array.isArray(vaultIds) ? { vaultIds: vaultIds.map(String) } : {}),
      expiresAt: payload.exp!,
    };
  } catch (error) {
    if (error instanceof TalonError) throw error;
    if (error instanceof joseErrors.JWTExpired) {
      throw new TalonError(
        'unauthenticated',
        'The access token has expired. Exchange your API key for a new one.',
      );
    }
    throw invalidToken('its signature, algorithm or claims do not check out');
  }
}

/** Verify a token made for `purpose` (e.g. the `mfa` token of a login); returns the user id. */
export async function verifyPurposeToken(
  keyRing: KeyRing,
  token: string,
  purpose: NonNullable<TokenClaims['purpose']>,
  now: Date,
): Promise<string> {
  const refused = () =>
    new TalonError('unauthenticated', `The ${purpose}_token is not valid or has expired. Log in again.`);
  if (token.length > maxTokenLength) throw refused();
  try {
    const { payload } = await jwtVerify(token, keyRing.subkey('jwt'), {
      algorithms: ['HS256'],
      issuer: 'talon',
      clockTolerance: clockToleranceSeconds,
      currentDate: now,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    const match = /^user:([0-9a-f-]{36})$/.exec(String(payload.sub));
    if (payload.purpose !== purpose || !match) throw refused();
    return match[1]!;
  } catch (error) {
    if (TalonError.is(error)) throw error;
    throw refused();
  }
}

function invalidToken(why: string): TalonError {
  return new TalonError(
    'unauthenticated',
    `The access token is not valid: ${why}. Exchange your API key for a new one.`,
  );
}
