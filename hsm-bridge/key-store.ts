import {
  constants as cryptoConstants,
  createECDH,
  createPublicKey,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import {
  type EcPublicKey,
  type EcdsaSignature,
  ecPointToPublicKey,
  normaliseEcdsaSignature,
  secp256k1EcParams,
} from './ecdsa-signature.js';
import { HsmError, ckrCode, sessionLostCodes, staleHandleCodes, toHsmError } from './hsm-error.js';
import {
  acquireModule,
  defaultSoftHsmModule,
  findTokenSlot,
  reinitialiseModule,
  releaseModule,
  tokenLabelText,
} from './pkcs11-module.js';
import { SessionPool } from './session-pool.js';
import {
  type WrapMechanism,
  dataKeyLength,
  decodeWrappedKey,
  encodeWrappedKey,
  gcmIvLength,
  gcmTagLength,
  wrapMechanisms,
  wrappedKeyHeader,
} from './wrapped-key-blob.js';

type Session = pkcs11js.Handle;
type ObjectHandle = pkcs11js.Handle;

/** Labels of the token objects Talon creates. */
export const keyLabels = {
  kek: 'talon-kek',
  kekRsa: 'talon-kek-rsa',
  hmac: 'talon-hmac',
} as const;

export interface KeyStoreOptions {
  /** Path of the PKCS#11 module; default: SoftHSM2. */
  modulePath?: string;
  tokenLabel: string;
  /** Sessions opened on the token; token calls beyond this many wait. Default 4. */
  sessions?: number;
  /** Use this wrap mechanism for new blobs instead of the probed default (tests, migrations). */
  wrapMechanism?: WrapMechanism;
  /** How token calls run; default 'auto' (see TokenCalls). */
  callMode?: CallMode | 'auto';
}

export interface TokenInfo {
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  hardwareVersion: string;
  firmwareVersion: string;
  freePublicMemory: number;
  freePrivateMemory: number;
  pin: { countLow: boolean; finalTry: boolean; locked: boolean };
  /** Names of every mechanism the token lists. */
  mechanisms: string[];
  /** Wrap mechanisms that round-tripped a key in the probe, in order of preference. */
  wrapMechanisms: WrapMechanism[];
  defaultWrapMechanism: WrapMechanism | null;
  /** Whether the slow calls run on the event loop ('blocking') or on libuv's pool ('async'). */
  callMode: CallMode;
}

/** CK_STATE values (PKCS#11 2.40 §5.7.1); pkcs11js does not export them. */
const sessionState = { readOnlyUser: 1, readWriteUser: 3 } as const;

/** Room for an RSA decryption up to 4096-bit keys; the token reports the real length. */
const maxRsaBytes = 512;

const mechanismNames = new Map<number, string>(
  Object.entries(pkcs11js)
    .filter(([name, value]) => name.startsWith('CKM_') && typeof value === 'number')
    .map(([name, value]) => [value as number, name.slice(4)]),
);

const gcmMechanism = (iv: Buffer, aad: Buffer): pkcs11js.Mechanism => ({
  mechanism: pkcs11js.CKM_AES_GCM,
  parameter: {
    type: pkcs11js.CK_PARAMS_AES_GCM_v240,
    iv,
    ivBits: gcmIvLength * 8,
    aad,
    tagBits: gcmTagLength * 8,
  } as pkcs11js.AesGCM,
});

const oaepMechanism = (mechanism: 'rsa-oaep-sha256' | 'rsa-oaep-sha1'): pkcs11js.Mechanism => ({
  mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
  parameter: {
    type: pkcs11js.CK_PARAMS_RSA_OAEP,
    hashAlg: mechanism === 'rsa-oaep-sha256' ? pkcs11js.CKM_SHA256 : pkcs11js.CKM_SHA_1,
    mgf: mechanism === 'rsa-oaep-sha256' ? pkcs11js.CKG_MGF1_SHA256 : pkcs11js.CKG_MGF1_SHA1,
    source: 1, // CKZ_DATA_SPECIFIED, with no label
  } as pkcs11js.RsaOAEP,
});

/** A temporary, readable copy of a data key inside the token, for C_WrapKey / C_UnwrapKey. */
const sessionDataKeyTemplate: pkcs11js.Template = [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
  { type: pkcs11js.CKA_TOKEN, value: false },
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: false },
  { type: pkcs11js.CKA_EXTRACTABLE, value: true },
];

/** Attributes every long-lived Talon key gets: on the token, private, never readable. */
const residentKeyAttributes = (label: string): pkcs11js.Template => [
  { type: pkcs11js.CKA_TOKEN, value: true },
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  { type: pkcs11js.CKA_LABEL, value: label },
  { type: pkcs11js.CKA_ID, value: Buffer.from(label, 'utf8') },
];

/**
 * The only code that talks to the hardware token. Keys it creates never leave the token;
 * data keys pass through it to be wrapped and unwrapped. Every method is async: token calls run
 * on libuv's thread pool, so a slow token (a YubiHSM 2 takes tens of milliseconds per call)
 * never blocks the event loop.
 */
export class KeyStore {
  private readonly pkcs11: pkcs11js.PKCS11;
  private readonly pool: SessionPool;
  private readonly handles = new Map<string, ObjectHandle>();
  private readonly publicKeys = new Map<string, EcPublicKey>();
  private readonly rsaPublicKeys = new Map<string, KeyObject>();
  private pin: string | null = null;
  private calls: TokenCalls;
  private probed: WrapMechanism[] = [];
  private closed = false;
  private lastRestoreFailure = 0;

  private constructor(
    readonly options: Required<Pick<KeyStoreOptions, 'modulePath' | 'tokenLabel' | 'sessions'>> &
      KeyStoreOptions,
    pkcs11: pkcs11js.PKCS11,
    slot: pkcs11js.Handle,
  ) {
    this.pkcs11 = pkcs11;
    this.calls = new TokenCalls(pkcs11, options.callMode === 'blocking' ? 'blocking' : 'async');
    this.pool = new SessionPool(pkcs11, options.sessions);
    this.pool.open(slot);
  }

  /** Open the token with this label (never a slot index). Throws hsm_unavailable when absent. */
  static open(options: KeyStoreOptions): KeyStore {
    const resolved = {
      ...options,
      modulePath: options.modulePath ?? defaultSoftHsmModule,
      sessions: options.sessions ?? 4,
    };
    const pkcs11 = acquireModule(resolved.modulePath);
    try {
      const slot = findTokenSlot(pkcs11, resolved.tokenLabel);
      if (!slot) {
        throw new HsmError(
          'hsm_unavailable',
          `No token labelled '${resolved.tokenLabel}' was found through ${resolved.modulePath}. Connect the token, or run 'talon init' to create the embedded one.`,
        );
      }
      return new KeyStore(resolved, pkcs11, slot);
    } catch (error) {
      releaseModule(resolved.modulePath);
      throw toHsmError(error, 'opening the token');
    }
  }

  get isLoggedIn(): boolean {
    return this.pin !== null;
  }

  /** Log in with the user PIN, create missing keys and probe the wrap mechanisms. */
  async login(pin: string): Promise<void> {
    if (pin.length === 0)
      throw new HsmError('wrong_pin', 'The token PIN is empty. Enter the PIN you chose at set-up.');
    const logIn = () =>
      this.pool.use((session) => {
        try {
          this.pkcs11.C_Login(session, pkcs11js.CKU_USER, pin);
        } catch (error) {
          if (ckrCode(error) === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) return;
          throw this.loginError(error);
        }
      });
    await logIn().catch((error: unknown) => {
      if (this.tokenAnswers()) throw error;
      this.restoreToken(error);
      return logIn();
    });
    this.pin = pin;
    await this.ensureKeys();
    if ((this.options.callMode ?? 'auto') === 'auto')
      this.calls = new TokenCalls(this.pkcs11, await this.timeTokenCall());
    this.probed = await this.probeWrapMechanisms();
  }

  async logout(): Promise<void> {
    this.pin = null;
    this.handles.clear();
    await this.pool.use((session) => {
      try {
        this.pkcs11.C_Logout(session);
      } catch (error) {
        if (ckrCode(error) !== pkcs11js.CKR_USER_NOT_LOGGED_IN) throw toHsmError(error, 'logging out');
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pin = null;
    this.handles.clear();
    this.pool.close();
    releaseModule(this.options.modulePath);
  }

  tokenInfo(): TokenInfo {
    const slot = this.slot();
    const info = this.pkcs11.C_GetTokenInfo(slot);
    const version = (v: { major: number; minor: number }) => `${v.major}.${v.minor}`;
    return {
      label: tokenLabelText(info.label),
      manufacturer: info.manufacturerID.trim(),
      model: info.model.trim(),
      serial: info.serialNumber.trim(),
      hardwareVersion: version(info.hardwareVersion),
      firmwareVersion: version(info.firmwareVersion),
      freePublicMemory: info.freePublicMemory,
      freePrivateMemory: info.freePrivateMemory,
      pin: pinFlags(info.flags),
      mechanisms: this.pkcs11
        .C_GetMechanismList(slot)
        .map((code) => mechanismNames.get(code) ?? `0x${code.toString(16)}`)
        .sort(),
      wrapMechanisms: [...this.probed],
      defaultWrapMechanism: this.defaultWrapMechanism(),
      callMode: this.calls.mode,
    };
  }

  /** The mechanism new blobs are wrapped with: the forced one, else the first the probe found working. */
  defaultWrapMechanism(): WrapMechanism | null {
    return this.options.wrapMechanism ?? this.probed[0] ?? null;
  }

  // ---------------------------------------------------------------- data keys

  /** Wrap a 32-byte data key under the token's key-encryption key. The caller zeroes `dataKey`. */
  async wrapDataKey(
    dataKey: Buffer,
    mechanism: WrapMechanism | null = this.defaultWrapMechanism(),
  ): Promise<Buffer> {
    if (dataKey.length !== dataKeyLength) throw new RangeError(`a data key is ${dataKeyLength} bytes`);
    if (!mechanism)
      throw new HsmError('mechanism_unsupported', 'This token offers no mechanism Talon can wrap keys with.');
    this.requireLogin('wrapping a data key');
    switch (mechanism) {
      case 'aes-gcm': {
        const header = wrappedKeyHeader(mechanism, keyLabels.kek);
        const iv = randomBytes(gcmIvLength);
        const sealed = await this.run('wrapping a data key (AES-GCM)', async (session) => {
          this.pkcs11.C_EncryptInit(
            session,
            gcmMechanism(iv, header),
            this.secretKey(session, keyLabels.kek),
          );
          return this.calls.encrypt(session, dataKey, Buffer.alloc(dataKeyLength + gcmTagLength));
        });
        return Buffer.concat([header, iv, sealed]);
      }
      case 'aes-key-wrap': {
        const wrapped = await this.run('wrapping a data key (AES key wrap)', async (session) => {
          const temporary = this.pkcs11.C_CreateObject(session, [
            ...sessionDataKeyTemplate,
            { type: pkcs11js.CKA_VALUE, value: dataKey },
          ]);
          try {
            return this.pkcs11.C_WrapKey(
              session,
              { mechanism: pkcs11js.CKM_AES_KEY_WRAP },
              this.secretKey(session, keyLabels.kek),
              temporary,
              Buffer.alloc(dataKeyLength + 8),
            );
          } finally {
            this.pkcs11.C_DestroyObject(session, temporary);
          }
        });
        return encodeWrappedKey(mechanism, keyLabels.kek, wrapped);
      }
      case 'rsa-oaep-sha256':
      case 'rsa-oaep-sha1': {
        const publicKey = await this.rsaPublicKey(keyLabels.kekRsa, true);
        const wrapped = publicEncrypt(
          {
            key: publicKey,
            padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: mechanism === 'rsa-oaep-sha256' ? 'sha256' : 'sha1',
          },
          dataKey,
        );
        return encodeWrappedKey(mechanism, keyLabels.kekRsa, wrapped);
      }
    }
  }

  /**
   * Unwrap a blob made by wrapDataKey, whatever mechanism made it. Returns a fresh buffer the
   * caller must zero once used. A tampered or truncated blob fails with `invalid_blob`.
   */
  async unwrapDataKey(blob: Buffer): Promise<Buffer> {
    this.requireLogin('unwrapping a data key');
    const { mechanism, keyLabel, header, payload } = decodeWrappedKey(blob);
    const tampered = (error: unknown) =>
      new HsmError(
        'invalid_blob',
        'A wrapped key failed its integrity check: it was changed or belongs to another token.',
        {
          cause: error,
        },
      );
    return this.run(`unwrapping a data key (${mechanism})`, async (session) => {
      switch (mechanism) {
        case 'aes-gcm': {
          const key = this.secretKey(session, keyLabel);
          this.pkcs11.C_DecryptInit(session, gcmMechanism(payload.subarray(0, gcmIvLength), header), key);
          const out = Buffer.alloc(dataKeyLength + gcmTagLength);
          const plain = await this.calls
            .decrypt(session, payload.subarray(gcmIvLength), out)
            .catch((error: unknown) => {
              throw ckrCode(error) === pkcs11js.CKR_GENERAL_ERROR ||
                ckrCode(error) === pkcs11js.CKR_ENCRYPTED_DATA_INVALID
                ? tampered(error)
                : error;
            });
          return plain.length === dataKeyLength ? plain : failLength(plain);
        }
        case 'aes-key-wrap': {
          const key = this.secretKey(session, keyLabel);
          const temporary = await this.calls
            .unwrapKey(
              session,
              { mechanism: pkcs11js.CKM_AES_KEY_WRAP },
              key,
              payload,
              sessionDataKeyTemplate,
            )
            .catch((error: unknown) => {
              const code = ckrCode(error);
              throw code === pkcs11js.CKR_WRAPPED_KEY_INVALID || code === pkcs11js.CKR_GENERAL_ERROR
                ? tampered(error)
                : error;
            });
          try {
            const [attribute] = this.pkcs11.C_GetAttributeValue(session, temporary, [
              { type: pkcs11js.CKA_VALUE },
            ]);
            const value = attribute?.value as Buffer;
            return value.length === dataKeyLength ? value : failLength(value);
          } finally {
            this.pkcs11.C_DestroyObject(session, temporary);
          }
        }
        case 'rsa-oaep-sha256':
        case 'rsa-oaep-sha1': {
          const key = this.privateKey(session, keyLabel);
          this.pkcs11.C_DecryptInit(session, oaepMechanism(mechanism), key);
          const plain = await this.calls
            .decrypt(session, payload, Buffer.alloc(maxRsaBytes))
            .catch((error: unknown) => {
              const code = ckrCode(error);
              throw code === pkcs11js.CKR_ENCRYPTED_DATA_INVALID ||
                code === pkcs11js.CKR_ENCRYPTED_DATA_LEN_RANGE ||
                code === pkcs11js.CKR_GENERAL_ERROR
                ? tampered(error)
                : error;
            });
          return plain.length === dataKeyLength ? plain : failLength(plain);
        }
      }
    });
  }

  // ---------------------------------------------------------------- HMAC

  /** HMAC-SHA256 of `data` under the token's HMAC key (or another generic-secret key by label). */
  async hmac(data: Buffer, label: string = keyLabels.hmac): Promise<Buffer> {
    this.requireLogin('computing an HMAC');
    return this.run('computing an HMAC', async (session) => {
      this.pkcs11.C_SignInit(
        session,
        { mechanism: pkcs11js.CKM_SHA256_HMAC },
        this.secretKey(session, label),
      );
      return this.calls.sign(session, data, Buffer.alloc(32));
    });
  }

  async verifyHmac(data: Buffer, mac: Buffer, label: string = keyLabels.hmac): Promise<boolean> {
    const expected = await this.hmac(data, label);
    return mac.length === expected.length && timingSafeEqual(mac, expected);
  }

  // ---------------------------------------------------------------- secp256k1

  /** Create a secp256k1 key pair on the token under `label`; refuses a label already in use. */
  async generateEcKeyPair(label: string): Promise<EcPublicKey> {
    this.requireLogin('generating a signing key');
    await this.run('generating a secp256k1 key pair', async (session) => {
      if (this.findObject(session, pkcs11js.CKO_PRIVATE_KEY, label)) {
        throw new HsmError('key_exists', `A signing key labelled '${label}' already exists on the token.`);
      }
      await this.pkcs11.C_GenerateKeyPairAsync(
        session,
        { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
        [
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_PRIVATE, value: false },
          { type: pkcs11js.CKA_VERIFY, value: true },
          { type: pkcs11js.CKA_EC_PARAMS, value: secp256k1EcParams },
          { type: pkcs11js.CKA_LABEL, value: label },
          { type: pkcs11js.CKA_ID, value: Buffer.from(label, 'utf8') },
        ],
        [...residentKeyAttributes(label), { type: pkcs11js.CKA_SIGN, value: true }],
      );
    });
    return this.ecPublicKey(label);
  }

  /**
   * Put an existing secp256k1 private key (32 bytes) on the token under `label`, as a sensitive,
   * non-extractable key that can only sign: from then on it is used like a generated one and can
   * never be read back. The caller zeroes `privateKey`. Refuses a label already in use; a token
   * that does not accept imported private keys answers `mechanism_unsupported`.
   */
  async importEcPrivateKey(label: string, privateKey: Buffer): Promise<EcPublicKey> {
    if (privateKey.length !== 32) throw new RangeError('a secp256k1 private key is 32 bytes');
    this.requireLogin('importing a signing key');
    const ecdh = createECDH('secp256k1');
    try {
      ecdh.setPrivateKey(privateKey);
    } catch {
      throw new RangeError('the private key is not a valid secp256k1 key (0, or not below the curve order)');
    }
    const point = ecdh.getPublicKey(); // uncompressed, 65 bytes
    const ecPoint = Buffer.concat([Buffer.from([0x04, point.length]), point]);
    await this.run('importing a secp256k1 key', (session) => {
      if (this.findObject(session, pkcs11js.CKO_PRIVATE_KEY, label)) {
        throw new HsmError('key_exists', `A signing key labelled '${label}' already exists on the token.`);
      }
      const created: ObjectHandle[] = [];
      try {
        created.push(
          this.pkcs11.C_CreateObject(session, [
            ...residentKeyAttributes(label),
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
            { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
            { type: pkcs11js.CKA_EC_PARAMS, value: secp256k1EcParams },
            { type: pkcs11js.CKA_VALUE, value: privateKey },
            { type: pkcs11js.CKA_SIGN, value: true },
          ]),
        );
        created.push(
          this.pkcs11.C_CreateObject(session, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
            { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
            { type: pkcs11js.CKA_TOKEN, value: true },
            { type: pkcs11js.CKA_PRIVATE, value: false },
            { type: pkcs11js.CKA_VERIFY, value: true },
            { type: pkcs11js.CKA_EC_PARAMS, value: secp256k1EcParams },
            { type: pkcs11js.CKA_EC_POINT, value: ecPoint },
            { type: pkcs11js.CKA_LABEL, value: label },
            { type: pkcs11js.CKA_ID, value: Buffer.from(label, 'utf8') },
          ]),
        );
      } catch (error) {
        for (const handle of created) this.pkcs11.C_DestroyObject(session, handle);
        const code = ckrCode(error);
        if (
          code === pkcs11js.CKR_TEMPLATE_INCONSISTENT ||
          code === pkcs11js.CKR_ATTRIBUTE_VALUE_INVALID ||
          code === pkcs11js.CKR_ATTRIBUTE_TYPE_INVALID ||
          code === pkcs11js.CKR_FUNCTION_NOT_SUPPORTED
        ) {
          throw new HsmError(
            'mechanism_unsupported',
            'This token does not accept imported private keys; generate a key on the token instead.',
            { cause: error },
          );
        }
        throw error;
      } finally {
        ecdh.setPrivateKey(randomBytes(32)); // drop the imported scalar from the ECDH object
      }
    });
    return this.ecPublicKey(label);
  }

  /**
   * Sign a 32-byte digest with a secp256k1 private key held outside the token (1Claw's
   * `signing_key_path` mode): the key becomes a session object for this one signature and is
   * destroyed at once, so the scalar never sits in a JavaScript string. The caller zeroes `privateKey`.
   */
  async signDigestWithKey(privateKey: Buffer, digest: Buffer): Promise<EcdsaSignature & EcPublicKey> {
    if (privateKey.length !== 32) throw new RangeError('a secp256k1 private key is 32 bytes');
    if (digest.length !== 32) throw new RangeError('a digest to sign is 32 bytes');
    this.requireLogin('signing');
    const ecdh = createECDH('secp256k1');
    try {
      ecdh.setPrivateKey(privateKey);
    } catch {
      throw new RangeError('the private key is not a valid secp256k1 key (0, or not below the curve order)');
    }
    const publicKey = ecPointToPublicKey(ecdh.getPublicKey());
    ecdh.setPrivateKey(randomBytes(32));
    const raw = await this.run('signing a digest with a one-time key', async (session) => {
      const key = this.pkcs11.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_EC_PARAMS, value: secp256k1EcParams },
        { type: pkcs11js.CKA_VALUE, value: privateKey },
        { type: pkcs11js.CKA_SIGN, value: true },
      ]);
      try {
        this.pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, key);
        return await this.calls.sign(session, digest, Buffer.alloc(64));
      } finally {
        this.pkcs11.C_DestroyObject(session, key);
      }
    });
    return { ...normaliseEcdsaSignature(raw, digest, publicKey.publicKey), ...publicKey };
  }

  /** The public key and Ethereum address of the key pair labelled `label`. */
  async ecPublicKey(label: string): Promise<EcPublicKey> {
    const cached = this.publicKeys.get(label);
    if (cached) return cached;
    const key = await this.run('reading a public key', (session) => {
      const handle = this.requireObject(session, pkcs11js.CKO_PUBLIC_KEY, label);
      const [point] = this.pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_EC_POINT }]);
      return ecPointToPublicKey(point?.value as Buffer);
    });
    this.publicKeys.set(label, key);
    return key;
  }

  /** Sign a 32-byte digest with CKM_ECDSA; the private key never leaves the token. */
  async signDigest(label: string, digest: Buffer): Promise<EcdsaSignature> {
    if (digest.length !== 32) throw new RangeError('a digest to sign is 32 bytes');
    this.requireLogin('signing');
    const { publicKey } = await this.ecPublicKey(label);
    const raw = await this.run('signing a digest', async (session) => {
      this.pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, this.privateKey(session, label));
      return this.calls.sign(session, digest, Buffer.alloc(64));
    });
    return normaliseEcdsaSignature(raw, digest, publicKey);
  }

  /** Delete a key pair or secret key by label (used when an agent's signing key is retired). */
  async destroyKey(label: string): Promise<void> {
    this.requireLogin('deleting a key');
    await this.run('deleting a key', (session) => {
      for (const keyClass of [pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_PUBLIC_KEY, pkcs11js.CKO_SECRET_KEY]) {
        const handle = this.findObject(session, keyClass, label);
        if (handle) this.pkcs11.C_DestroyObject(session, handle);
        this.handles.delete(`${keyClass}:${label}`);
      }
      this.publicKeys.delete(label);
    });
  }

  /** Whether a key of any class with this label is on the token. */
  async hasKey(label: string): Promise<boolean> {
    return this.run('looking up a key', (session) =>
      [pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_SECRET_KEY, pkcs11js.CKO_PUBLIC_KEY].some(
        (keyClass) => this.findObject(session, keyClass, label) !== undefined,
      ),
    );
  }

  // ---------------------------------------------------------------- internals

  /** Create the KEK and the HMAC key when the token lacks them (first log-in after set-up). */
  private async ensureKeys(): Promise<void> {
    await this.run('creating the token keys', (session) => {
      const mechanisms = new Set(this.pkcs11.C_GetMechanismList(this.slot()));
      if (
        mechanisms.has(pkcs11js.CKM_AES_KEY_GEN) &&
        !this.findObject(session, pkcs11js.CKO_SECRET_KEY, keyLabels.kek)
      ) {
        this.pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
          ...residentKeyAttributes(keyLabels.kek),
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
          { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
          { type: pkcs11js.CKA_ENCRYPT, value: true },
          { type: pkcs11js.CKA_DECRYPT, value: true },
          { type: pkcs11js.CKA_WRAP, value: true },
          { type: pkcs11js.CKA_UNWRAP, value: true },
        ]);
      }
      if (!this.findObject(session, pkcs11js.CKO_SECRET_KEY, keyLabels.hmac)) {
        this.pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, [
          ...residentKeyAttributes(keyLabels.hmac),
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
          { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
          { type: pkcs11js.CKA_SIGN, value: true },
          { type: pkcs11js.CKA_VERIFY, value: true },
        ]);
      }
    });
  }

  /**
   * Which wrap mechanisms work on this token, in order of preference. AES-GCM comes first
   * because unwrapping costs one token call (C_Decrypt); AES key wrap costs three on tokens
   * that cannot decrypt with it (unwrap to a session object, read it, destroy it); RSA-OAEP is
   * the path a YubiHSM 2 offers. Each candidate must round-trip a random key.
   */
  private async probeWrapMechanisms(): Promise<WrapMechanism[]> {
    const listed = new Set(this.pkcs11.C_GetMechanismList(this.slot()));
    const hasAesKek = await this.hasKey(keyLabels.kek);
    const candidates = wrapMechanisms.filter((mechanism) => {
      if (mechanism === 'aes-gcm') return hasAesKek && listed.has(pkcs11js.CKM_AES_GCM);
      if (mechanism === 'aes-key-wrap') return hasAesKek && listed.has(pkcs11js.CKM_AES_KEY_WRAP);
      return listed.has(pkcs11js.CKM_RSA_PKCS_OAEP) && listed.has(pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN);
    });
    const working: WrapMechanism[] = [];
    const needsRsa = !candidates.some((mechanism) => mechanism.startsWith('aes'));
    for (const mechanism of candidates) {
      if (
        mechanism.startsWith('rsa') &&
        !needsRsa &&
        this.options.wrapMechanism !== mechanism &&
        !(await this.hasKey(keyLabels.kekRsa))
      ) {
        continue; // no RSA key-encryption key is created on tokens that can wrap with AES
      }
      const probe = randomBytes(dataKeyLength);
      try {
        const unwrapped = await this.unwrapDataKey(await this.wrapDataKey(probe, mechanism));
        if (unwrapped.equals(probe)) working.push(mechanism);
        unwrapped.fill(0);
      } catch (error) {
        if (!(error instanceof HsmError) || error.kind === 'hsm_unavailable') throw error;
      } finally {
        probe.fill(0);
      }
    }
    if (this.options.wrapMechanism && !working.includes(this.options.wrapMechanism)) {
      throw new HsmError(
        'mechanism_unsupported',
        `The wrap mechanism '${this.options.wrapMechanism}' does not work on this token; it supports: ${working.join(', ') || 'none'}.`,
      );
    }
    return working;
  }

  /**
   * Decide how token calls run from how long one takes. A blocking pkcs11js call holds the event
   * loop for its whole duration; the *Async form moves it to libuv's thread pool at a fixed cost of
   * a thread hop and a promise (about 0.1 ms here). On SoftHSM2 a call takes tens of microseconds,
   * so blocking is cheaper and harmless (measured in `npm run bench`); a YubiHSM 2 takes tens of
   * milliseconds, which must not block the loop. The threshold sits far from both.
   */
  private async timeTokenCall(): Promise<CallMode> {
    const timings = await this.pool.use((session) => {
      const key = this.secretKey(session, keyLabels.hmac);
      return [0, 1, 2, 3, 4].map(() => {
        const started = process.hrtime.bigint();
        this.pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_HMAC }, key);
        this.pkcs11.C_Sign(session, Buffer.alloc(32), Buffer.alloc(32));
        return Number(process.hrtime.bigint() - started) / 1e6;
      });
    });
    const median = timings.sort((a, b) => a - b)[2]!;
    return median < blockingCallThresholdMs ? 'blocking' : 'async';
  }

  /** The RSA key-encryption public key as a Node key object, created on the token when asked to. */
  private async rsaPublicKey(label: string, create: boolean): Promise<KeyObject> {
    const cached = this.rsaPublicKeys.get(label);
    if (cached) return cached;
    const key = await this.run('reading the RSA key-encryption key', async (session) => {
      let handle = this.findObject(session, pkcs11js.CKO_PUBLIC_KEY, label);
      if (!handle && create) {
        const pair = await this.pkcs11.C_GenerateKeyPairAsync(
          session,
          { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
          [
            { type: pkcs11js.CKA_TOKEN, value: true },
            { type: pkcs11js.CKA_PRIVATE, value: false },
            { type: pkcs11js.CKA_ENCRYPT, value: true },
            { type: pkcs11js.CKA_WRAP, value: true },
            { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 },
            { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
            { type: pkcs11js.CKA_LABEL, value: label },
            { type: pkcs11js.CKA_ID, value: Buffer.from(label, 'utf8') },
          ],
          [
            ...residentKeyAttributes(label),
            { type: pkcs11js.CKA_DECRYPT, value: true },
            { type: pkcs11js.CKA_UNWRAP, value: true },
          ],
        );
        handle = pair.publicKey;
      }
      if (!handle) throw keyNotFound(label);
      const [modulus, exponent] = this.pkcs11
        .C_GetAttributeValue(session, handle, [
          { type: pkcs11js.CKA_MODULUS },
          { type: pkcs11js.CKA_PUBLIC_EXPONENT },
        ])
        .map((attribute) => attribute.value as Buffer);
      return createPublicKey({
        key: { kty: 'RSA', n: modulus!.toString('base64url'), e: exponent!.toString('base64url') },
        format: 'jwk',
      });
    });
    this.rsaPublicKeys.set(label, key);
    return key;
  }

  private requireLogin(doing: string): void {
    if (this.closed)
      throw new HsmError('hsm_unavailable', `The key store is closed (${doing}). Restart Talon.`);
    if (!this.pin)
      throw new HsmError('not_logged_in', `The token is locked (${doing}). Unlock Talon with the token PIN.`);
  }

  /**
   * Run token calls on a pooled session. A stale object handle (the key was recreated by another
   * process) is looked up again by label; a dropped session or login is reopened with the PIN
   * held since login; each is retried once.
   */
  private async run<T>(doing: string, fn: (session: Session) => Promise<T> | T): Promise<T> {
    let lookedUpAgain = false;
    let reconnected = false;
    let restored = false;
    for (;;) {
      try {
        return await this.pool.use(fn);
      } catch (error) {
        if (!restored && this.pin && !this.tokenAnswers()) {
          restored = true;
          this.restoreToken(error);
          continue;
        }
        const code = ckrCode(error);
        if (!lookedUpAgain && code !== undefined && staleHandleCodes.has(code)) {
          lookedUpAgain = true;
          this.handles.clear();
          continue;
        }
        const loginLost =
          (code !== undefined && sessionLostCodes.has(code)) ||
          (error instanceof HsmError && error.kind === 'not_logged_in');
        if (!reconnected && loginLost && this.pin) {
          reconnected = true;
          await this.reconnect();
          continue;
        }
        throw toHsmError(error, doing);
      }
    }
  }

  /** Whether the module still lists the token; asked only after a call failed. */
  private tokenAnswers(): boolean {
    try {
      return findTokenSlot(this.pkcs11, this.options.tokenLabel) !== undefined;
    } catch {
      return false;
    }
  }

  /**
   * The token stopped answering (unplugged, or the embedded token's folder vanished, after which
   * SoftHSM2 answers nothing until it is initialised again): initialise the module again, reopen
   * the sessions and log in with the PIN held since login. Tried at most once a second, so a
   * missing token costs each request one quick 503 rather than a module restart.
   */
  private restoreToken(cause: unknown): void {
    const gone = () =>
      new HsmError(
        'hsm_unavailable',
        `The token '${this.options.tokenLabel}' does not answer: it was disconnected, or the embedded token's folder was moved or made unreadable. Put it back; Talon reconnects on the next request.`,
        { cause },
      );
    if (Date.now() - this.lastRestoreFailure < restoreIntervalMs) throw gone();
    try {
      reinitialiseModule(this.options.modulePath);
      const slot = findTokenSlot(this.pkcs11, this.options.tokenLabel);
      if (!slot) throw gone();
      this.handles.clear();
      this.pool.reopen(slot);
      if (this.pin) {
        const session = this.pkcs11.C_OpenSession(
          slot,
          pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION,
        );
        try {
          this.pkcs11.C_Login(session, pkcs11js.CKU_USER, this.pin);
        } catch (error) {
          if (ckrCode(error) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw this.loginError(error);
        } finally {
          this.pkcs11.C_CloseSession(session);
        }
      }
    } catch (error) {
      this.lastRestoreFailure = Date.now();
      if (error instanceof HsmError && error.kind !== 'hsm_unavailable' && error.kind !== 'token_error')
        throw error;
      throw gone();
    }
  }

  private async reconnect(): Promise<void> {
    this.handles.clear();
    this.pool.reopen(this.slot());
    await this.pool.use((session) => {
      try {
        this.pkcs11.C_Login(session, pkcs11js.CKU_USER, this.pin!);
      } catch (error) {
        if (ckrCode(error) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw this.loginError(error);
      }
    });
  }

  private slot(): pkcs11js.Handle {
    const slot = findTokenSlot(this.pkcs11, this.options.tokenLabel);
    if (!slot) {
      throw new HsmError(
        'hsm_unavailable',
        `The token '${this.options.tokenLabel}' is gone. Reconnect it and retry.`,
      );
    }
    return slot;
  }

  private loginError(error: unknown): HsmError {
    const mapped = toHsmError(error, 'logging in');
    if (mapped.kind !== 'wrong_pin') return mapped;
    let flags = { countLow: false, finalTry: false, locked: false };
    try {
      flags = pinFlags(this.pkcs11.C_GetTokenInfo(this.slot()).flags);
    } catch {
      // token info is a courtesy here; the wrong PIN is the answer either way
    }
    if (flags.locked) {
      return new HsmError('pin_locked', "The token's user PIN is locked after too many wrong tries.", {
        cause: error,
      });
    }
    const triesLeft = flags.finalTry ? 1 : undefined;
    const hint = flags.finalTry
      ? ' One try is left before the token locks the PIN.'
      : flags.countLow
        ? ' Few tries are left before the token locks the PIN.'
        : '';
    return new HsmError('wrong_pin', `The token PIN is wrong.${hint} Check it and try again.`, {
      ...(mapped.ckr ? { ckr: mapped.ckr } : {}),
      ...(triesLeft === undefined ? {} : { triesLeft }),
      cause: error,
    });
  }

  private findObject(session: Session, keyClass: number, label: string): ObjectHandle | undefined {
    const cacheKey = `${keyClass}:${label}`;
    const cached = this.handles.get(cacheKey);
    if (cached) return cached;
    this.pkcs11.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: keyClass },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    try {
      const [handle] = this.pkcs11.C_FindObjects(session, 1);
      if (handle) this.handles.set(cacheKey, handle);
      return handle;
    } finally {
      this.pkcs11.C_FindObjectsFinal(session);
    }
  }

  private requireObject(session: Session, keyClass: number, label: string): ObjectHandle {
    const handle = this.findObject(session, keyClass, label);
    if (handle) return handle;
    // Private objects are invisible without a login: a token that dropped it looks keyless.
    const { state } = this.pkcs11.C_GetSessionInfo(session);
    if (state !== sessionState.readWriteUser && state !== sessionState.readOnlyUser) {
      throw new HsmError('not_logged_in', 'The token dropped the login. Unlock Talon with the token PIN.');
    }
    throw keyNotFound(label);
  }

  private secretKey(session: Session, label: string): ObjectHandle {
    return this.requireObject(session, pkcs11js.CKO_SECRET_KEY, label);
  }

  private privateKey(session: Session, label: string): ObjectHandle {
    return this.requireObject(session, pkcs11js.CKO_PRIVATE_KEY, label);
  }
}

export type CallMode = 'blocking' | 'async';

/** How often a key store tries to get back a token that stopped answering. */
const restoreIntervalMs = 1000;

/** A token call that blocks the event loop for longer than this runs on the thread pool instead. */
const blockingCallThresholdMs = 1;

/** The token calls that may be slow, each either blocking or on libuv's thread pool; both answer a promise. */
class TokenCalls {
  constructor(
    private readonly pkcs11: pkcs11js.PKCS11,
    readonly mode: CallMode,
  ) {}

  private run<T>(blocking: () => T, async: () => Promise<T>): Promise<T> {
    if (this.mode === 'async') return async();
    return new Promise<T>((resolve) => resolve(blocking()));
  }

  encrypt(session: Session, input: Buffer, output: Buffer): Promise<Buffer> {
    return this.run(
      () => this.pkcs11.C_Encrypt(session, input, output),
      () => this.pkcs11.C_EncryptAsync(session, input, output),
    );
  }

  decrypt(session: Session, input: Buffer, output: Buffer): Promise<Buffer> {
    return this.run(
      () => this.pkcs11.C_Decrypt(session, input, output),
      () => this.pkcs11.C_DecryptAsync(session, input, output),
    );
  }

  sign(session: Session, input: Buffer, output: Buffer): Promise<Buffer> {
    return this.run(
      () => this.pkcs11.C_Sign(session, input, output),
      () => this.pkcs11.C_SignAsync(session, input, output),
    );
  }

  unwrapKey(
    session: Session,
    mechanism: pkcs11js.Mechanism,
    key: ObjectHandle,
    wrapped: Buffer,
    template: pkcs11js.Template,
  ): Promise<ObjectHandle> {
    return this.run(
      () => this.pkcs11.C_UnwrapKey(session, mechanism, key, wrapped, template),
      () => this.pkcs11.C_UnwrapKeyAsync(session, mechanism, key, wrapped, template),
    );
  }
}

function pinFlags(flags: number): TokenInfo['pin'] {
  return {
    countLow: (flags & pkcs11js.CKF_USER_PIN_COUNT_LOW) !== 0,
    finalTry: (flags & pkcs11js.CKF_USER_PIN_FINAL_TRY) !== 0,
    locked: (flags & pkcs11js.CKF_USER_PIN_LOCKED) !== 0,
  };
}

function keyNotFound(label: string): HsmError {
  return new HsmError(
    'key_not_found',
    `The token has no key labelled '${label}'. Was the token replaced or reset? Use the token this data was made with.`,
  );
}

function failLength(value: Buffer): never {
  value.fill(0);
  throw new HsmError(
    'invalid_blob',
    `A wrapped key unwrapped to ${value.length} bytes instead of ${dataKeyLength}.`,
  );
}
