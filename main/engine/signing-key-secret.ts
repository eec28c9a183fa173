import { createECDH, randomBytes } from 'node:crypto';
import { computeAddress, hexlify } from 'ethers';
import type { SecretRow, SecretVersionRow, VaultRow } from '../store/store.js';
import { type EngineContext, actorOf, callDetails } from './engine-context.js';
import type { AgentPrincipal, CallContext } from './principal.js';
import { normalizeSecretPath } from './secret-path.js';
import type { DigestSignature } from './signing-keys.js';
import { TalonError } from './talon-error.js';
import { hsmToTalonError } from './value-barrier.js';

/** A `private_key` secret an agent may sign with (1Claw's `signing_key_path` mode). */
export interface SecretSigningKey {
  vault: VaultRow;
  secret: SecretRow;
  version: SecretVersionRow;
  path: string;
  address: string;
  /** A policy asks a human to approve each use of this key. */
  requireApproval: boolean;
}

/** 1Claw's default path of a chain's signing key. */
export function defaultSigningKeyPath(chainName: string): string {
  return `keys/${chainName}-signer`;
}

/**
 * 1Claw's compatibility mode: the agent signs with a `private_key` secret at `path` in a vault it
 * can reach, under a policy granting it `use` (or `read`) of that path. The crypto-proxy rule that
 * forbids such agents to *read* private keys still holds: the value never leaves Talon. It is
 * decrypted for one signature, handed to the token as a one-time session object, and zeroed.
 */
export function findSecretSigningKey(
  context: EngineContext,
  principal: AgentPrincipal,
  rawPath: string,
  call: CallContext,
): Omit<SecretSigningKey, 'address'> {
  const path = normalizeSecretPath(rawPath);
  const vaults =
    principal.vaultIds.length > 0
      ? principal.vaultIds.map((id) => context.store.vaults.get(id)).filter((v): v is VaultRow => !!v)
      : context.store.vaults.list().filter((vault) => context.access.canSeeVault(principal, vault));
  for (const vault of vaults) {
    const secret = context.store.secrets.getSecretByPath(vault.id, path);
    if (!secret || secret.deletedAt) continue;
    if (secret.type !== 'private_key') {
      throw new TalonError(
        'invalid_input',
        `The secret at signing_key_path '${path}' is a ${secret.type}, not a private_key.`,
      );
    }
    // The crypto-proxy block guards values leaving Talon; signing here returns none, so the
    // decision is asked without the secret's type. Either permission will do.
    const use = context.access.decide(principal, vault, path, 'use', call);
    const decision = use.allowed ? use : context.access.decide(principal, vault, path, 'read', call);
    if (!decision.allowed) {
      context.audit.append({
        action: 'secret.use',
        actor: actorOf(principal),
        outcome: 'denied',
        vaultId: vault.id,
        resourceType: 'secret',
        resourceId: secret.id,
        path,
        details: { reason: decision.reason, purpose: 'transaction signing', ...callDetails(call) },
        ip: call.ip ?? null,
      });
      throw new TalonError('forbidden', `Access denied to signing_key_path '${path}': ${decision.reason}.`);
    }
    if (secret.expiresAt && Date.parse(secret.expiresAt) <= call.now.getTime()) {
      throw new TalonError('gone', `The signing key at '${path}' has expired.`);
    }
    const version = context.store.secrets.getVersion(secret.id, secret.currentVersion);
    if (!version || version.disabledAt) {
      throw new TalonError('gone', `The current version of the signing key at '${path}' is disabled.`);
    }
    return { vault, secret, version, path, requireApproval: decision.requireApproval };
  }
  throw new TalonError(
    'not_found',
    `No private_key secret at signing_key_path '${path}' in a vault this agent can reach. Leave signing_key_path out to sign with the agent's token-held key.`,
  );
}

/** Decrypt the secret, run `work` with the 32-byte key, and zero every copy. */
async function withPrivateKey<T>(
  context: EngineContext,
  key: Omit<SecretSigningKey, 'address' | 'requireApproval'>,
  work: (privateKey: Buffer) => Promise<T> | T,
): Promise<T> {
  const plaintext = await context.barrier.open(
    key.vault,
    { vaultId: key.vault.id, path: key.path, version: key.version.version, type: key.version.type },
    key.version,
  );
  let privateKey: Buffer | undefined;
  try {
    const text = plaintext.toString('latin1').trim();
    const hex = text.startsWith('0x') ? text.slice(2) : text;
    if (!/^[0-9a-fA-F]{64}$/u.test(hex)) {
      throw new TalonError(
        'unprocessable',
        `The secret at '${key.path}' is not a secp256k1 private key (expected 64 hex digits, with or without 0x).`,
      );
    }
    privateKey = Buffer.from(hex, 'hex');
    return await work(privateKey);
  } finally {
    plaintext.fill(0);
    privateKey?.fill(0);
  }
}

/** The address of the secret's key (decrypted for this and zeroed). */
export async function secretSigningKeyAddress(
  context: EngineContext,
  key: Omit<SecretSigningKey, 'address'>,
): Promise<string> {
  return withPrivateKey(context, key, (privateKey) => {
    const ecdh = createECDH('secp256k1');
    try {
      ecdh.setPrivateKey(privateKey);
    } catch {
      throw new TalonError(
        'unprocessable',
        `The secret at '${key.path}' is not a valid secp256k1 private key.`,
      );
    }
    const address = computeAddress(hexlify(ecdh.getPublicKey()));
    ecdh.setPrivateKey(randomBytes(32));
    return address;
  });
}

/** One signature with the secret's key, in the token; the key is zeroed before this returns. */
export async function signWithSecretKey(
  context: EngineContext,
  key: SecretSigningKey,
  digest: Buffer,
): Promise<DigestSignature> {
  return withPrivateKey(context, key, async (privateKey) => {
    try {
      const signature = await context.keyStore.signDigestWithKey(privateKey, digest);
      return { r: signature.r, s: signature.s, recoveryId: signature.recoveryId, address: signature.address };
    } catch (error) {
      throw hsmToTalonError(error);
    }
  });
}
