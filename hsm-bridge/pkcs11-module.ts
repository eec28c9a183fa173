import { existsSync } from 'node:fs';
import pkcs11js from 'pkcs11js';
import { HsmError, toHsmError } from './hsm-error.js';

export const defaultSoftHsmModule = '/usr/lib/softhsm/libsofthsm2.so';

interface LoadedModule {
  pkcs11: pkcs11js.PKCS11;
  users: number;
}

// A PKCS#11 library is initialised once per process: a second C_Initialize on the same library
// answers CKR_CRYPTOKI_ALREADY_INITIALIZED. Every KeyStore on one module path shares it.
const loaded = new Map<string, LoadedModule>();

/**
 * Load and initialise a PKCS#11 module. CKF_OS_LOCKING_OK is required: without it, concurrent
 * async calls on several sessions crash SoftHSM2 (see shared/FACTS.md).
 */
export function acquireModule(modulePath: string): pkcs11js.PKCS11 {
  const existing = loaded.get(modulePath);
  if (existing) {
    existing.users += 1;
    return existing.pkcs11;
  }
  if (!existsSync(modulePath)) {
    throw new HsmError(
      'hsm_unavailable',
      `The PKCS#11 module ${modulePath} does not exist. Install SoftHSM2 (apt-get install softhsm2) or set TALON_PKCS11_MODULE to your token's module.`,
    );
  }
  const pkcs11 = new pkcs11js.PKCS11();
  try {
    pkcs11.load(modulePath);
  } catch (error) {
    throw new HsmError(
      'hsm_unavailable',
      `The PKCS#11 module ${modulePath} could not be loaded (${(error as Error).message}). Check that it is a PKCS#11 library for this machine.`,
      { cause: error },
    );
  }
  try {
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (!(
      error instanceof pkcs11js.Pkcs11Error && error.code === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED
    )) {
      pkcs11.close();
      throw toHsmError(error, `initialising ${modulePath}`);
    }
  }
  loaded.set(modulePath, { pkcs11, users: 1 });
  return pkcs11;
}

/**
 * Finalise and initialise a loaded module again, dropping every session on it. SoftHSM2 stops
 * answering for good once its token folder vanishes (it marks its object store invalid until
 * the next C_Initialize), so this is how a key store gets its token back.
 */
export function reinitialiseModule(modulePath: string): void {
  const entry = loaded.get(modulePath);
  if (!entry) throw new HsmError('hsm_unavailable', `The PKCS#11 module ${modulePath} is not loaded.`);
  try {
    entry.pkcs11.C_Finalize();
  } catch {
    // not initialised (an earlier attempt failed): initialise below
  }
  try {
    entry.pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (!(
      error instanceof pkcs11js.Pkcs11Error && error.code === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED
    )) {
      throw toHsmError(error, `initialising ${modulePath} again`);
    }
  }
}

/** Whether some key store in this process still holds the module. */
export function isModuleLoaded(modulePath: string): boolean {
  return loaded.has(modulePath);
}

export function releaseModule(modulePath: string): void {
  const entry = loaded.get(modulePath);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  loaded.delete(modulePath);
  try {
    entry.pkcs11.C_Finalize();
  } finally {
    entry.pkcs11.close();
  }
}

/** The slot holding the initialised token with this label; labels, never slot indexes, name tokens. */
export function findTokenSlot(pkcs11: pkcs11js.PKCS11, label: string): pkcs11js.Handle | undefined {
  for (const slot of pkcs11.C_GetSlotList(true)) {
    const info = pkcs11.C_GetTokenInfo(slot);
    if ((info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0 && tokenLabelText(info.label) === label)
      return slot;
  }
  return undefined;
}

/** PKCS#11 labels are 32 bytes padded with blanks (some libraries pad with NULs instead). */
export function tokenLabelText(padded: string): string {
  return padded.replace(/[\s\0]+$/, '');
}

export function paddedTokenLabel(label: string): string {
  if (Buffer.byteLength(label, 'utf8') > 32) throw new RangeError('a token label is at most 32 bytes');
  return label + ' '.repeat(32 - Buffer.byteLength(label, 'utf8'));
}
