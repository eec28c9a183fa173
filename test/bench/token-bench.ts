import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { SigningKey, hexlify } from 'ethers';
import { type Measurement, type Ratio, measure, ratio } from './measure.js';
import type { KeyStore } from '../../hsm-bridge/index.js';

export interface SuiteResult {
  suite: string;
  measurements: Measurement[];
  ratios: Ratio[];
  notes?: string[];
}

/** Raw token operations on SoftHSM2 next to the same operations in bare Node, in one run. */
export async function benchToken(keyStore: KeyStore, asyncStore: KeyStore, scale: number): Promise<SuiteResult> {
  const n = (count: number) => Math.max(100, Math.round(count * scale));
  const dataKey = randomBytes(32);
  const gcmBlob = await keyStore.wrapDataKey(dataKey, 'aes-gcm');
  const keyWrapBlob = await keyStore.wrapDataKey(dataKey, 'aes-key-wrap');
  await keyStore.generateEcKeyPair('bench-signer').catch(() => undefined);
  const digest = randomBytes(32);
  const data = randomBytes(64);

  const nodeKey = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', nodeKey, iv);
  const sealed = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  const tag = cipher.getAuthTag();
  const softwareSigner = new SigningKey(hexlify(randomBytes(32)));

  const m = {
    nodeDecrypt: await measure('node aes-256-gcm decrypt (32 B)', () => {
      const decipher = createDecipheriv('aes-256-gcm', nodeKey, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(sealed), decipher.final()]);
    }, { count: n(50_000) }),
    nodeHmac: await measure('node hmac-sha256', () => createHmac('sha256', nodeKey).update(data).digest(), {
      count: n(50_000),
    }),
    nodeSign: await measure('ethers secp256k1 sign (software)', () => softwareSigner.sign(digest), { count: n(2_000) }),
    wrapGcm: await measure('token wrap aes-gcm', () => keyStore.wrapDataKey(dataKey, 'aes-gcm'), { count: n(5_000) }),
    wrapKeyWrap: await measure('token wrap aes-key-wrap', () => keyStore.wrapDataKey(dataKey, 'aes-key-wrap'), {
      count: n(5_000),
    }),
    unwrapGcm: await measure('token unwrap aes-gcm', () => keyStore.unwrapDataKey(gcmBlob), { count: n(10_000) }),
    unwrapGcmAsync: await measure('token unwrap aes-gcm (thread pool)', () => asyncStore.unwrapDataKey(gcmBlob), {
      count: n(10_000),
    }),
    unwrapGcmAsync4: await measure('token unwrap aes-gcm (thread pool), 4 in flight', () => asyncStore.unwrapDataKey(gcmBlob), {
      count: n(10_000),
      concurrency: 4,
    }),
    unwrapKeyWrap: await measure('token unwrap aes-key-wrap', () => keyStore.unwrapDataKey(keyWrapBlob), {
      count: n(5_000),
    }),
    hmac: await measure('token hmac-sha256', () => keyStore.hmac(data), { count: n(10_000) }),
    sign: await measure('token ecdsa secp256k1 sign', () => keyStore.signDigest('bench-signer', digest), {
      count: n(2_000),
    }),
    signAsync4: await measure('token ecdsa sign (thread pool), 4 in flight', () => asyncStore.signDigest('bench-signer', digest), {
      count: n(2_000),
      concurrency: 4,
    }),
  };
  return {
    suite: 'token',
    measurements: Object.values(m),
    ratios: [
      ratio('token unwrap (aes-gcm) / node decrypt', m.unwrapGcm, m.nodeDecrypt),
      ratio('token unwrap (aes-key-wrap) / token unwrap (aes-gcm)', m.unwrapKeyWrap, m.unwrapGcm),
      ratio('token unwrap: thread pool / blocking', m.unwrapGcmAsync, m.unwrapGcm),
      ratio('token unwrap: thread pool 4 in flight / blocking', m.unwrapGcmAsync4, m.unwrapGcm),
      ratio('token hmac / node hmac', m.hmac, m.nodeHmac),
      ratio('token sign / software sign', m.sign, m.nodeSign),
      ratio('token sign: thread pool 4 in flight / blocking', m.signAsync4, m.sign),
    ],
  };
}
