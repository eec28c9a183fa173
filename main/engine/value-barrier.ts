import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HsmError, type KeyStore } from '../../hsm-bridge/index.js';
import { type KeyRing, lockedMessage } from './key-ring.js';
import { TalonError } from './talon-error.js';

/**
 * The one place where secret values are encrypted and decrypted (Vault's "barrier").
 *
 * Threat model: the database file, its WAL and backups may be read by an attacker; the token and
 * its PIN may not. Each secret version is AES-256-GCM under its own 32-byte data key (DEK), with
 * AAD `vault_id|path|version|type`, so a ciphertext moved to another path, version, type or vault
 * fails to decrypt. The DEK is stored wrapped:
 *   - session mode: by the vault key, in Node (the vault key is unwrapped by the token once per
 *     unlock and held in the key ring);
 *   - strict mode: by the token's key-encryption key, unwrapped in the token on every read.
 * The first byte of a wrapped DEK says which, so a vault can change mode and still read old
 * versions. While Talon is locked every call fails with `locked`. Buffers that held a DEK or a
 * vault key's output are zeroed once used; callers zero the plaintext they get.
 */
export interface ValueBinding {
  vaultId: string;
  path: string;
  version: number;
  type: string;
}

export interface BarrierVault {
  id: string;
  strictMode: boolean;
  wrappedKey: Buffer;
}

/** A fresh data key and its wrapped form; `seal` with it, then `discard` it. */
export interface DataKey {
  key: Buffer;
  wrapped: Buffer;
}

const ivLength = 12;
const tagLength = 16;
const keyLength = 32;
const wrappedBy = { vaultKey: 1, token: 2 } as const;

/** Vaults whose DEK AAD is remembered, at most; past this the memo starts again. */
const maxRememberedDekAads = 1024;

export class ValueBarrier {
  /** Each vault's DEK AAD, made once: building it was a tenth of a session-mode read's cost beyond its decryptions. */
  private readonly dekAads = new Map<string, Buffer>();

  constructor(
    private readonly keyStore: KeyStore,
    private readonly keyRing: KeyRing,
  ) {}

  /** A new vault key, returned only in its wrapped form. */
  async createVaultKey(): Promise<Buffer> {
    const key = randomBytes(keyLength);
    try {
      return await this.token(() => this.keyStore.wrapDataKey(key));
    } finally {
      key.fill(0);
    }
  }

  /** A fresh DEK for one new version, wrapped as the vault's mode says. May call the token. */
  async newDataKey(vault: BarrierVault): Promise<DataKey> {
    const key = randomBytes(keyLength);
    try {
      if (vault.strictMode) {
        const blob = await this.token(() => this.keyStore.wrapDataKey(key));
        return { key, wrapped: Buffer.concat([Buffer.from([wrappedBy.token]), blob]) };
      }
      const vaultKey = await this.vaultKey(vault);
      this.requireUnlocked();
      return {
        key,
        wrapped: Buffer.concat([
          Buffer.from([wrappedBy.vaultKey]),
          gcmSeal(vaultKey, key, this.dekAad(vault.id)),
        ]),
      };
    } catch (error) {
      key.fill(0);
      throw error;
    }
  }

  /** Encrypt a value under a DEK from newDataKey. Synchronous, so it can run inside a store transaction. */
  seal(dataKey: DataKey, binding: ValueBinding, plaintext: Buffer): Buffer {
    this.requireUnlocked();
    return gcmSeal(dataKey.key, plaintext, valueAad(binding));
  }

  discard(dataKey: DataKey): void {
    dataKey.key.fill(0);
  }

  /**
   * Decrypt one version. The caller zeroes the returned buffer once the response is written.
   * Synchronous when the DEK is unwrapped in Node with a vault key already in the key ring (a
   * session-mode read): the promise chain of an asynchronous open cost about as much as one of
   * the read's two decryptions. Callers await it either way.
   */
  open(
    vault: BarrierVault,
    binding: ValueBinding,
    sealed: { ciphertext: Buffer; wrappedDek: Buffer },
  ): Buffer | Promise<Buffer> {
    const dek = this.unwrapDataKey(vault, sealed.wrappedDek);
    return dek instanceof Promise
      ? dek.then((key) => openValue(key, sealed.ciphertext, binding))
      : openValue(dek, sealed.ciphertext, binding);
  }

  private unwrapDataKey(vault: BarrierVault, wrapped: Buffer): Buffer | Promise<Buffer> {
    this.requireUnlocked();
    const kind = wrapped[0];
    const body = wrapped.subarray(1);
    if (kind === wrappedBy.token) return this.token(() => this.keyStore.unwrapDataKey(body));
    if (kind !== wrappedBy.vaultKey) throw damaged();
    const held = this.keyRing.heldVaultKey(vault.id);
    if (held) return gcmOpen(held, body, this.dekAad(vault.id));
    return this.vaultKey(vault).then((vaultKey) => {
      this.requireUnlocked();
      return gcmOpen(vaultKey, body, this.dekAad(vault.id));
    });
  }

  private dekAad(vaultId: string): Buffer {
    let aad = this.dekAads.get(vaultId);
    if (aad === undefined) {
      if (this.dekAads.size >= maxRememberedDekAads) this.dekAads.clear();
      aad = Buffer.from(`talon/dek|${vaultId}`, 'utf8');
      this.dekAads.set(vaultId, aad);
    }
    return aad;
  }

  /**
   * Also checked after every wait for the vault key: a lock in the meantime has zeroed it, and
   * using it would report the lock as damaged data.
   */
  private requireUnlocked(): void {
    if (!this.keyRing.isUnlocked) throw new TalonError('locked', lockedMessage);
  }

  private vaultKey(vault: BarrierVault): Promise<Buffer> {
    return this.keyRing.vaultKey(vault.id, () =>
      this.token(() => this.keyStore.unwrapDataKey(vault.wrappedKey)),
    );
  }

  /** Token failures become Talon's errors: an unusable token is 503, a bad blob is data damage. */
  private async token<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw hsmToTalonError(error);
    }
  }
}

/** The mapping of token errors to Talon's, used wherever the engine calls the token. */
export function hsmToTalonError(error: unknown): unknown {
  if (!(error instanceof HsmError)) return error;
  switch (error.kind) {
    case 'invalid_blob':
      return damaged(error);
    case 'not_logged_in':
      return new TalonError('locked', error.message, { cause: error });
    case 'wrong_pin':
      return new TalonError('unauthenticated', error.message, {
        cause: error,
        details: error.triesLeft === undefined ? {} : { tries_left: error.triesLeft },
      });
    case 'invalid_pin':
      return new TalonError('invalid_input', error.message, { cause: error });
    case 'pin_locked':
      return new TalonError('forbidden', error.message, { cause: error });
    default:
      return new TalonError('hsm_unavailable', error.message, { cause: error });
  }
}

function damaged(cause?: unknown): TalonError {
  return new TalonError(
    'internal',
    'A stored value failed its integrity check: the database was changed outside Talon or belongs to another token. Restore it from a backup.',
    cause === undefined ? {} : { cause },
  );
}

/** Decrypts a value under its DEK, then zeroes the DEK. */
function openValue(dek: Buffer, ciphertext: Buffer, binding: ValueBinding): Buffer {
  try {
    return gcmOpen(dek, ciphertext, valueAad(binding));
  } finally {
    dek.fill(0);
  }
}

function valueAad(binding: ValueBinding): Buffer {
  return Buffer.from(`${binding.vaultId}|${binding.path}|${binding.version}|${binding.type}`, 'utf8');
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(ivLength);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function gcmOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < ivLength + tagLength) throw damaged();
  // Views rather than subarrays: a read opens two of these, and Buffer's subarray costs more.
  const { buffer, byteOffset, length } = sealed;
  const decipher = createDecipheriv('aes-256-gcm', key, new Uint8Array(buffer, byteOffset, ivLength));
  decipher.setAAD(aad);
  decipher.setAuthTag(new Uint8Array(buffer, byteOffset + length - tagLength, tagLength));
  // GCM's final() returns no bytes, only checks the tag: the update's buffer is the plaintext, with
  // no second copy left behind unzeroed.
  const plaintext = decipher.update(
    new Uint8Array(buffer, byteOffset + ivLength, length - ivLength - tagLength),
  );
  try {
    decipher.final();
  } catch (error) {
    plaintext.fill(0);
    throw damaged(error);
  }
  return plaintext;
}
