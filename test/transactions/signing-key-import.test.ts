import { randomBytes } from 'node:crypto';
import { Signature, Wallet, hexlify, recoverAddress } from 'ethers';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HsmError, defaultSoftHsmModule } from '../../hsm-bridge/index.js';
import { acquireModule, findTokenSlot, releaseModule } from '../../hsm-bridge/pkcs11-module.js';
import { type TestToken, createTestToken, testTokenLabel } from '../fixtures/test-token.js';

/** Importing a wallet key into SoftHSM2, and 1Claw-mode one-time keys, at the key store itself. */

let token: TestToken;
const halfOrder = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141') / 2n;

beforeAll(async () => {
  token = await createTestToken();
});

afterAll(() => token?.cleanup());

function recovered(digest: Buffer, signature: { r: Buffer; s: Buffer; recoveryId: 0 | 1 }): string {
  return recoverAddress(
    hexlify(digest),
    Signature.from({ r: hexlify(signature.r), s: hexlify(signature.s), v: 27 + signature.recoveryId }),
  );
}

describe('importing an EC private key', () => {
  it('puts the key on the token as sensitive and non-extractable, signing as the wallet', async () => {
    const wallet = Wallet.createRandom();
    const key = Buffer.from(wallet.privateKey.slice(2), 'hex');
    const imported = await token.keyStore.importEcPrivateKey('import-a', key);
    expect(imported.address).toBe(wallet.address);
    for (let i = 0; i < 20; i += 1) {
      const digest = randomBytes(32);
      const signature = await token.keyStore.signDigest('import-a', digest);
      expect(recovered(digest, signature)).toBe(wallet.address);
      expect(BigInt(hexlify(signature.s)) <= halfOrder).toBe(true);
    }

    const pkcs11 = acquireModule(defaultSoftHsmModule);
    const session = pkcs11.C_OpenSession(findTokenSlot(pkcs11, testTokenLabel)!, pkcs11js.CKF_SERIAL_SESSION);
    try {
      pkcs11.C_FindObjectsInit(session, [
        { type: pkcs11js.CKA_LABEL, value: 'import-a' },
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      ]);
      const [handle] = pkcs11.C_FindObjects(session, 1);
      pkcs11.C_FindObjectsFinal(session);
      expect(handle).toBeDefined();
      const [sensitive, extractable, persistent] = pkcs11.C_GetAttributeValue(session, handle!, [
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_TOKEN },
      ]);
      expect(sensitive!.value).toEqual(Buffer.from([1]));
      expect(extractable!.value).toEqual(Buffer.from([0]));
      expect(persistent!.value).toEqual(Buffer.from([1]));
      expect(() => pkcs11.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_VALUE }])).toThrow(
        /CKR_ATTRIBUTE_SENSITIVE/,
      );
    } finally {
      pkcs11.C_CloseSession(session);
      releaseModule(defaultSoftHsmModule);
    }
  });

  it('refuses a label in use, and keys that are not secp256k1 scalars', async () => {
    const key = Buffer.from(Wallet.createRandom().privateKey.slice(2), 'hex');
    await token.keyStore.importEcPrivateKey('import-b', key);
    await expect(token.keyStore.importEcPrivateKey('import-b', key)).rejects.toSatisfy(
      (error) => error instanceof HsmError && error.kind === 'key_exists',
    );
    await expect(token.keyStore.importEcPrivateKey('import-c', Buffer.alloc(32))).rejects.toThrow(RangeError);
    await expect(token.keyStore.importEcPrivateKey('import-c', Buffer.alloc(31, 1))).rejects.toThrow(
      RangeError,
    );
  });
});

describe('one-time keys (signing_key_path)', () => {
  it('signs with a key that does not stay on the token', async () => {
    const wallet = Wallet.createRandom();
    const key = Buffer.from(wallet.privateKey.slice(2), 'hex');
    const digest = randomBytes(32);
    const signature = await token.keyStore.signDigestWithKey(key, digest);
    expect(signature.address).toBe(wallet.address);
    expect(recovered(digest, signature)).toBe(wallet.address);
    // Session objects end with the call: nothing with a private key class is left unlabelled.
    const pkcs11 = acquireModule(defaultSoftHsmModule);
    const session = pkcs11.C_OpenSession(findTokenSlot(pkcs11, testTokenLabel)!, pkcs11js.CKF_SERIAL_SESSION);
    try {
      pkcs11.C_FindObjectsInit(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_TOKEN, value: false },
      ]);
      expect(pkcs11.C_FindObjects(session, 10)).toHaveLength(0);
      pkcs11.C_FindObjectsFinal(session);
      // The search does see private keys (this process is logged in): the imported ones.
      pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
      expect(pkcs11.C_FindObjects(session, 10).length).toBeGreaterThan(0);
      pkcs11.C_FindObjectsFinal(session);
    } finally {
      pkcs11.C_CloseSession(session);
      releaseModule(defaultSoftHsmModule);
    }
  });
});
