import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { HsmError, toHsmError } from './hsm-error.js';
import { KeyStore, type KeyStoreOptions } from './key-store.js';
import {
  acquireModule,
  defaultSoftHsmModule,
  findTokenSlot,
  isModuleLoaded,
  paddedTokenLabel,
  releaseModule,
} from './pkcs11-module.js';

/**
 * The embedded SoftHSM2 token: a token folder and its own softhsm2.conf inside Talon's data
 * folder. SoftHSM2 reads SOFTHSM2_CONF once, when the module is initialised, so one process
 * serves one embedded token folder.
 */
export interface EmbeddedTokenPaths {
  folder: string;
  config: string;
  tokens: string;
  /** The security officer PIN, wrapped by the token's key-encryption key. */
  sealedSoPin: string;
}

export function embeddedTokenPaths(dataDir: string): EmbeddedTokenPaths {
  const folder = join(dataDir, 'softhsm2');
  return {
    folder,
    config: join(folder, 'softhsm2.conf'),
    tokens: join(folder, 'tokens'),
    sealedSoPin: join(folder, 'so-pin.sealed'),
  };
}

let activeConfig: string | undefined;

/** Point SoftHSM2 at the data folder's token folder, creating the folder and its config. */
export function useEmbeddedSoftHsm(dataDir: string): EmbeddedTokenPaths {
  const paths = embeddedTokenPaths(dataDir);
  if (activeConfig !== undefined && activeConfig !== paths.config) {
    throw new HsmError(
      'token_error',
      `This process already uses the SoftHSM2 configuration ${activeConfig}; one process serves one embedded token folder.`,
    );
  }
  mkdirSync(paths.tokens, { recursive: true, mode: 0o700 });
  chmodSync(paths.folder, 0o700);
  if (!existsSync(paths.config)) {
    writeFileSync(
      paths.config,
      [
        `directories.tokendir = ${paths.tokens}`,
        'objectstore.backend = file',
        'log.level = ERROR',
        'slots.removable = false',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }
  process.env.SOFTHSM2_CONF = paths.config;
  activeConfig = paths.config;
  return paths;
}

/** The steps of creating the embedded token, in order, reported as each one is done. */
export type EmbeddedTokenStep = 'token-initialised' | 'user-pin-set' | 'keys-created' | 'so-pin-sealed';

export interface CreateEmbeddedTokenOptions extends Omit<KeyStoreOptions, 'modulePath'> {
  dataDir: string;
  userPin: string;
  modulePath?: string;
  /** Told after each step (a set-up screen shows progress; tests interrupt set-up here). */
  onProgress?: (step: EmbeddedTokenStep) => void;
}

/**
 * Create the embedded token with the PIN the human chose, log in, create the keys, and seal the
 * generated security officer PIN under the token's key-encryption key. Returns the logged-in
 * key store. Refuses when a token with this label already exists.
 */
/** SoftHSM2's bounds for a user PIN, checked before anything is created. */
export const softHsmPinLength = { min: 4, max: 255 } as const;

export async function createEmbeddedToken(options: CreateEmbeddedTokenOptions): Promise<KeyStore> {
  const pinLength = Buffer.byteLength(options.userPin, 'utf8');
  if (pinLength < softHsmPinLength.min || pinLength > softHsmPinLength.max) {
    // Refused up front: C_InitPIN failing after C_InitToken would leave a token whose user PIN
    // nobody set, and every later attempt would fail with CKR_USER_PIN_NOT_INITIALIZED.
    throw new HsmError(
      'invalid_pin',
      `The token PIN must be ${softHsmPinLength.min} to ${softHsmPinLength.max} bytes long. Choose another PIN.`,
    );
  }
  const paths = useEmbeddedSoftHsm(options.dataDir);
  const modulePath = options.modulePath ?? defaultSoftHsmModule;
  const pkcs11 = acquireModule(modulePath);
  const soPin = randomBytes(32);
  try {
    if (findTokenSlot(pkcs11, options.tokenLabel)) {
      throw new HsmError(
        'key_exists',
        `A token labelled '${options.tokenLabel}' already exists in ${paths.tokens}.`,
      );
    }
    const slot = pkcs11
      .C_GetSlotList(true)
      .find((candidate) => (pkcs11.C_GetTokenInfo(candidate).flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0);
    if (!slot) throw new HsmError('hsm_unavailable', 'SoftHSM2 offers no free slot for a new token.');
    const soPinText = soPin.toString('hex');
    pkcs11.C_InitToken(slot, soPinText, paddedTokenLabel(options.tokenLabel));
    const initialised = findTokenSlot(pkcs11, options.tokenLabel);
    if (!initialised) throw new HsmError('token_error', 'SoftHSM2 did not create the token.');
    options.onProgress?.('token-initialised');
    const session = pkcs11.C_OpenSession(initialised, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      pkcs11.C_Login(session, pkcs11js.CKU_SO, soPinText);
      pkcs11.C_InitPIN(session, options.userPin);
      pkcs11.C_Logout(session);
    } finally {
      pkcs11.C_CloseSession(session);
    }
    options.onProgress?.('user-pin-set');
  } catch (error) {
    soPin.fill(0);
    throw toHsmError(error, 'creating the embedded token');
  } finally {
    releaseModule(modulePath);
  }

  const keyStore = KeyStore.open({ ...options, modulePath });
  try {
    await keyStore.login(options.userPin);
    options.onProgress?.('keys-created');
    writeFileSync(paths.sealedSoPin, await keyStore.wrapDataKey(soPin), { mode: 0o600 });
    options.onProgress?.('so-pin-sealed');
    return keyStore;
  } catch (error) {
    keyStore.close();
    throw error;
  } finally {
    soPin.fill(0);
  }
}

/** Unseal the security officer PIN (needs a logged-in key store), e.g. to reset a locked user PIN. */
export async function unsealSoPin(keyStore: KeyStore, dataDir: string): Promise<string> {
  const key = await keyStore.unwrapDataKey(readFileSync(embeddedTokenPaths(dataDir).sealedSoPin));
  try {
    return key.toString('hex');
  } finally {
    key.fill(0);
  }
}

/**
 * How far the embedded token got: `absent` (no token with this label), `unfinished` (a set-up
 * stopped before the user PIN was set or the security officer PIN was sealed, so nobody can ever
 * log in to it, or reset its PIN), or `ready`. Needs no PIN.
 */
export function embeddedTokenState(
  dataDir: string,
  tokenLabel: string,
  modulePath: string = defaultSoftHsmModule,
): 'absent' | 'unfinished' | 'ready' {
  const paths = useEmbeddedSoftHsm(dataDir);
  const pkcs11 = acquireModule(modulePath);
  try {
    const slot = findTokenSlot(pkcs11, tokenLabel);
    if (!slot) return 'absent';
    const pinSet = (pkcs11.C_GetTokenInfo(slot).flags & pkcs11js.CKF_USER_PIN_INITIALIZED) !== 0;
    return pinSet && existsSync(paths.sealedSoPin) ? 'ready' : 'unfinished';
  } finally {
    releaseModule(modulePath);
  }
}

/**
 * Delete the embedded token folder's tokens and the sealed security officer PIN, to start a set-up
 * again. Only for a token nothing depends on (the caller checks). SoftHSM2 reads its token folder
 * when the module is initialised, so every key store on the module must be closed first.
 */
export function removeEmbeddedToken(dataDir: string, modulePath: string = defaultSoftHsmModule): void {
  if (isModuleLoaded(modulePath)) {
    throw new HsmError(
      'token_error',
      'The embedded token is still open in this process; close every key store on it before removing it.',
    );
  }
  const paths = embeddedTokenPaths(dataDir);
  for (const entry of existsSync(paths.tokens) ? readdirSync(paths.tokens) : []) {
    rmSync(join(paths.tokens, entry), { recursive: true, force: true });
  }
  rmSync(paths.sealedSoPin, { force: true });
}
