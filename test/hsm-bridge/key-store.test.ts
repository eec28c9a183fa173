import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { Signature, SigningKey, computeAddress, hexlify, recoverAddress } from 'ethers';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HsmError, KeyStore, embeddedTokenPaths, keyLabels, unsealSoPin } from '../../hsm-bridge/index.js';
import {
  acquireModule,
  defaultSoftHsmModule,
  findTokenSlot,
  releaseModule,
} from '../../hsm-bridge/pkcs11-module.js';
import { createTestToken, testPin, testTokenLabel, type TestToken } from '../fixtures/test-token.js';

const curveOrder = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');

let token: TestToken;
let keyStore: KeyStore;

beforeAll(async () => {
  token = await createTestToken();
  keyStore = token.keyStore;
});

afterAll(() => token.cleanup());

async function expectHsmError(promise: Promise<unknown>, kind: HsmError['kind']): Promise<HsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HsmError);
  expect((error as HsmError).kind).toBe(kind);
  return error as HsmError;
}

describe('token information', () => {
  it('reports the token and the wrap mechanisms the probe found working', () => {
    const info = keyStore.tokenInfo();
    expect(info.label).toBe(testTokenLabel);
    expect(info.manufacturer).toBe('SoftHSM project');
    expect(info.serial).not.toBe('');
    expect(info.mechanisms).toContain('AES_GCM');
    expect(info.mechanisms).toContain('ECDSA');
    expect(info.wrapMechanisms).toEqual(['aes-gcm', 'aes-key-wrap']);
    expect(info.defaultWrapMechanism).toBe('aes-gcm');
    expect(info.callMode).toBe('blocking'); // SoftHSM2 answers in microseconds
  });

  it('seals the generated security officer PIN in a 0600 file', async () => {
    const paths = embeddedTokenPaths(token.dataDir);
    expect(statSync(paths.sealedSoPin).mode & 0o777).toBe(0o600);
    expect(await unsealSoPin(keyStore, token.dataDir)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('data key wrapping', () => {
  for (const mechanism of ['aes-gcm', 'aes-key-wrap', 'rsa-oaep-sha1'] as const) {
    it(`round-trips a data key with ${mechanism}`, async () => {
      const dataKey = randomBytes(32);
      const blob = await keyStore.wrapDataKey(dataKey, mechanism);
      expect(blob.includes(dataKey)).toBe(false);
      expect((await keyStore.unwrapDataKey(blob)).equals(dataKey)).toBe(true);
    });

    it(`rejects a tampered or truncated ${mechanism} blob with a clear error`, async () => {
      const blob = await keyStore.wrapDataKey(randomBytes(32), mechanism);
      const flipped = Buffer.from(blob);
      flipped[flipped.length - 5]! ^= 0x01;
      const error = await expectHsmError(keyStore.unwrapDataKey(flipped), 'invalid_blob');
      expect(error.message).toMatch(/integrity check|damaged/);
      await expectHsmError(keyStore.unwrapDataKey(blob.subarray(0, blob.length - 3)), 'invalid_blob');
    });
  }

  it('binds the header: a blob relabelled to another mechanism or key fails', async () => {
    const blob = await keyStore.wrapDataKey(randomBytes(32), 'aes-gcm');
    const relabelled = Buffer.from(blob);
    relabelled[0] = 9;
    const error = await expectHsmError(keyStore.unwrapDataKey(relabelled), 'invalid_blob');
    expect(error.message).toContain('unknown format version 9');
    const asKeyWrap = Buffer.from(blob);
    asKeyWrap[1] = 1; // aes-key-wrap id, wrong payload length
    await expectHsmError(keyStore.unwrapDataKey(asKeyWrap), 'invalid_blob');
  });

  it('reads blobs of every mechanism whatever the default is', async () => {
    const forcedRsa = KeyStore.open({
      tokenLabel: testTokenLabel,
      wrapMechanism: 'rsa-oaep-sha1',
      sessions: 1,
    });
    try {
      await forcedRsa.login(testPin);
      expect(forcedRsa.defaultWrapMechanism()).toBe('rsa-oaep-sha1');
      const dataKey = randomBytes(32);
      const rsaBlob = await forcedRsa.wrapDataKey(dataKey);
      expect(rsaBlob[1]).toBe(4);
      const gcmBlob = await keyStore.wrapDataKey(dataKey);
      expect((await forcedRsa.unwrapDataKey(gcmBlob)).equals(dataKey)).toBe(true);
      expect((await keyStore.unwrapDataKey(rsaBlob)).equals(dataKey)).toBe(true);
    } finally {
      forcedRsa.close();
    }
  });

  it('refuses a forced mechanism the token cannot do', async () => {
    const forced = KeyStore.open({
      tokenLabel: testTokenLabel,
      wrapMechanism: 'rsa-oaep-sha256',
      sessions: 1,
    });
    try {
      const error = await expectHsmError(forced.login(testPin), 'mechanism_unsupported');
      expect(error.message).toContain("'rsa-oaep-sha256' does not work on this token");
    } finally {
      forced.close();
    }
  });

  it('unwraps correctly under concurrency across pooled sessions', async () => {
    const keys = Array.from({ length: 200 }, () => randomBytes(32));
    const blobs = await Promise.all(
      keys.map((key, i) => keyStore.wrapDataKey(key, i % 2 ? 'aes-gcm' : 'aes-key-wrap')),
    );
    const unwrapped = await Promise.all(blobs.map((blob) => keyStore.unwrapDataKey(blob)));
    unwrapped.forEach((key, i) => expect(key.equals(keys[i]!)).toBe(true));
  });
});

describe('token calls on the thread pool (the mode slow tokens get)', () => {
  it('wraps, unwraps, signs and rejects tampering the same way', async () => {
    const asyncStore = KeyStore.open({ tokenLabel: testTokenLabel, callMode: 'async', sessions: 2 });
    try {
      await asyncStore.login(testPin);
      expect(asyncStore.tokenInfo().callMode).toBe('async');
      const keys = Array.from({ length: 50 }, () => randomBytes(32));
      const blobs = await Promise.all(
        keys.map((key, i) => asyncStore.wrapDataKey(key, i % 2 ? 'aes-gcm' : 'aes-key-wrap')),
      );
      const unwrapped = await Promise.all(blobs.map((blob) => asyncStore.unwrapDataKey(blob)));
      unwrapped.forEach((key, i) => expect(key.equals(keys[i]!)).toBe(true));
      const tampered = Buffer.from(blobs[1]!);
      tampered[tampered.length - 1]! ^= 1;
      await expectHsmError(asyncStore.unwrapDataKey(tampered), 'invalid_blob');
      const data = Buffer.from('async');
      expect((await asyncStore.hmac(data)).equals(await keyStore.hmac(data))).toBe(true);
    } finally {
      asyncStore.close();
    }
  });
});

describe('resident keys', () => {
  it('keeps the key-encryption key and the HMAC key unreadable', () => {
    const pkcs11 = acquireModule(defaultSoftHsmModule);
    const session = pkcs11.C_OpenSession(findTokenSlot(pkcs11, testTokenLabel)!, pkcs11js.CKF_SERIAL_SESSION);
    try {
      for (const label of [keyLabels.kek, keyLabels.hmac]) {
        pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
        const [handle] = pkcs11.C_FindObjects(session, 1);
        pkcs11.C_FindObjectsFinal(session);
        expect(handle).toBeDefined();
        const [sensitive, extractable] = pkcs11.C_GetAttributeValue(session, handle!, [
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_EXTRACTABLE },
        ]);
        expect(sensitive!.value).toEqual(Buffer.from([1]));
        expect(extractable!.value).toEqual(Buffer.from([0]));
        expect(() => pkcs11.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_VALUE }])).toThrow(
          /CKR_ATTRIBUTE_SENSITIVE/,
        );
      }
    } finally {
      pkcs11.C_CloseSession(session);
      releaseModule(defaultSoftHsmModule);
    }
  });

  it('computes HMACs that verify, and a changed byte fails', async () => {
    const data = Buffer.from('talon/audit/v1');
    const mac = await keyStore.hmac(data);
    expect(mac).toHaveLength(32);
    expect((await keyStore.hmac(data)).equals(mac)).toBe(true);
    expect(await keyStore.verifyHmac(data, mac)).toBe(true);
    const changed = Buffer.from(mac);
    changed[0]! ^= 0x80;
    expect(await keyStore.verifyHmac(data, changed)).toBe(false);
    expect(await keyStore.verifyHmac(Buffer.from('talon/audit/v2'), mac)).toBe(false);
    expect(await keyStore.verifyHmac(data, mac.subarray(0, 31))).toBe(false);
  });

  it('signs with a token-resident secp256k1 key: low-s, right recovery id, verifies with ethers', async () => {
    const { publicKey, address } = await keyStore.generateEcKeyPair('agent-test-signer');
    expect(publicKey).toHaveLength(65);
    expect(address).toBe(computeAddress(hexlify(publicKey)));
    for (let i = 0; i < 40; i += 1) {
      const digest = randomBytes(32);
      const signature = await keyStore.signDigest('agent-test-signer', digest);
      expect(BigInt(hexlify(signature.s)) <= curveOrder / 2n).toBe(true);
      const ethersSignature = Signature.from({
        r: hexlify(signature.r),
        s: hexlify(signature.s),
        v: 27 + signature.recoveryId,
      });
      expect(recoverAddress(digest, ethersSignature)).toBe(address);
      expect(
        SigningKey.recoverPublicKey(
          digest,
          hexlify(signature.compact.subarray(0, 64)) + (27 + signature.recoveryId).toString(16),
        ),
      ).toBe(hexlify(publicKey));
    }
  });

  it('refuses a second key pair under the same label, and an unknown label', async () => {
    await keyStore.generateEcKeyPair('agent-dup');
    await expectHsmError(keyStore.generateEcKeyPair('agent-dup'), 'key_exists');
    await expectHsmError(keyStore.signDigest('no-such-key', randomBytes(32)), 'key_not_found');
  });
});

describe('login and sessions', () => {
  it('fails a wrong PIN clearly, then the right PIN works', async () => {
    const other = KeyStore.open({ tokenLabel: testTokenLabel, sessions: 1 });
    try {
      await other.logout(); // the login is per token and application: this logs keyStore out too
      await expectHsmError(other.hmac(Buffer.from('x')), 'not_logged_in');
      const error = await expectHsmError(other.login('wrong-pin'), 'wrong_pin');
      expect(error.message).toContain('PIN is wrong');
      expect(error.message).not.toContain('wrong-pin');
      await other.login(testPin);
      expect(await other.verifyHmac(Buffer.from('x'), await other.hmac(Buffer.from('x')))).toBe(true);
    } finally {
      other.close();
    }
  });

  it('logs in again by itself when the token drops the login', async () => {
    const other = KeyStore.open({ tokenLabel: testTokenLabel, sessions: 1 });
    await other.logout();
    other.close();
    const data = Buffer.from('after logout elsewhere');
    expect(await keyStore.verifyHmac(data, await keyStore.hmac(data))).toBe(true);
  });

  it('logs in again by itself when the token drops every session', async () => {
    const pkcs11 = acquireModule(defaultSoftHsmModule);
    try {
      pkcs11.C_CloseAllSessions(findTokenSlot(pkcs11, testTokenLabel)!);
    } finally {
      releaseModule(defaultSoftHsmModule);
    }
    const data = Buffer.from('after reconnect');
    expect(await keyStore.verifyHmac(data, await keyStore.hmac(data))).toBe(true);
  });

  it('refuses to work once closed or logged out', async () => {
    const other = KeyStore.open({ tokenLabel: testTokenLabel, sessions: 1 });
    other.close();
    await expectHsmError(other.hmac(Buffer.from('x')), 'hsm_unavailable');
  });
});

describe('unavailable token', () => {
  it('answers hsm_unavailable for a missing module', () => {
    expect(() =>
      KeyStore.open({ tokenLabel: testTokenLabel, modulePath: '/nonexistent/libpkcs11.so' }),
    ).toThrow(
      expect.objectContaining({
        kind: 'hsm_unavailable',
        message: expect.stringContaining('TALON_PKCS11_MODULE'),
      }),
    );
  });

  it('answers hsm_unavailable for a file that is not a PKCS#11 module', () => {
    expect(() => KeyStore.open({ tokenLabel: testTokenLabel, modulePath: '/etc/hostname' })).toThrow(
      expect.objectContaining({ kind: 'hsm_unavailable' }),
    );
  });

  it('answers hsm_unavailable for a missing token label', () => {
    expect(() => KeyStore.open({ tokenLabel: 'no-such-token' })).toThrow(
      expect.objectContaining({
        kind: 'hsm_unavailable',
        message: expect.stringContaining("'no-such-token'"),
      }),
    );
  });
});
