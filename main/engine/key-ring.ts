import type { KeyStore } from '../../hsm-bridge/index.js';
import { TalonError } from './talon-error.js';

/**
 * In-memory keys of an unlocked Talon (session mode, DESIGN "Keys and encryption"): subkeys
 * derived at unlock as the token's HMAC of fixed labels, and vault keys unwrapped on first use.
 * Steady-state requests then make no token call. Lock zeroes every one of them.
 */
export const subkeyLabels = {
  jwt: 'talon/jwt/v1',
  apiKey: 'talon/api-key/v1',
  audit: 'talon/audit/v1',
} as const;
export type SubkeyName = keyof typeof subkeyLabels;

export const lockedMessage =
  'Talon is locked. A human must unlock it with the token PIN (in the Talon app, with `talon unlock`, or by starting `talon serve` with TALON_HSM_PIN or TALON_HSM_PIN_FILE set), then retry.';

export class KeyRing {
  private subkeys: Map<SubkeyName, Buffer> | null = null;
  private readonly vaultKeys = new Map<string, Buffer>();
  private readonly pendingVaultKeys = new Map<string, Promise<Buffer>>();

  get isUnlocked(): boolean {
    return this.subkeys !== null;
  }

  async unlock(keyStore: KeyStore): Promise<void> {
    const derived = new Map<SubkeyName, Buffer>();
    for (const name of Object.keys(subkeyLabels) as SubkeyName[]) {
      derived.set(name, await keyStore.hmac(Buffer.from(subkeyLabels[name], 'utf8')));
    }
    this.lock();
    this.subkeys = derived;
  }

  lock(): void {
    for (const key of this.subkeys?.values() ?? []) key.fill(0);
    for (const key of this.vaultKeys.values()) key.fill(0);
    this.subkeys = null;
    this.vaultKeys.clear();
    this.pendingVaultKeys.clear();
  }

  subkey(name: SubkeyName): Buffer {
    const key = this.subkeys?.get(name);
    if (!key) throw new TalonError('locked', lockedMessage);
    return key;
  }

  /** The vault key if it is already unwrapped (and Talon unlocked); else undefined. */
  heldVaultKey(vaultId: string): Buffer | undefined {
    return this.isUnlocked ? this.vaultKeys.get(vaultId) : undefined;
  }

  /** The vault key, unwrapped once per unlock; concurrent first uses share one token call. */
  async vaultKey(vaultId: string, unwrap: () => Promise<Buffer>): Promise<Buffer> {
    if (!this.isUnlocked) throw new TalonError('locked', lockedMessage);
    const cached = this.vaultKeys.get(vaultId);
    if (cached) return cached;
    let pending = this.pendingVaultKeys.get(vaultId);
    if (!pending) {
      pending = unwrap();
      this.pendingVaultKeys.set(vaultId, pending);
    }
    try {
      const key = await pending;
      if (!this.isUnlocked) {
        key.fill(0);
        throw new TalonError('locked', lockedMessage);
      }
      this.vaultKeys.set(vaultId, key);
      return key;
    } finally {
      this.pendingVaultKeys.delete(vaultId);
    }
  }

  forgetVaultKey(vaultId: string): void {
    this.vaultKeys.get(vaultId)?.fill(0);
    this.vaultKeys.delete(vaultId);
  }
}
