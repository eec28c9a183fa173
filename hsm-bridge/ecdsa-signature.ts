import { Signature, SigningKey, computeAddress, hexlify } from 'ethers';
import { HsmError } from './hsm-error.js';

/** DER encoding of the secp256k1 OID 1.3.132.0.10, the value of CKA_EC_PARAMS. */
export const secp256k1EcParams = Buffer.from('06052b8104000a', 'hex');

const curveOrder = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
const halfOrder = curveOrder >> 1n;

export interface EcPublicKey {
  /** Uncompressed SEC1 point, 65 bytes (0x04 ‖ x ‖ y). */
  publicKey: Buffer;
  /** EIP-55 checksummed Ethereum address of the key. */
  address: string;
}

export interface EcdsaSignature {
  r: Buffer;
  /** Always the low-s form (s ≤ n/2), as Ethereum requires. */
  s: Buffer;
  /** Recovery id, 0 or 1. */
  recoveryId: 0 | 1;
  /** r ‖ s ‖ recoveryId, 65 bytes. */
  compact: Buffer;
}

/** CKA_EC_POINT arrives as a DER OCTET STRING around the 65-byte uncompressed point. */
export function ecPointToPublicKey(ecPoint: Buffer): EcPublicKey {
  let point = ecPoint;
  if (point.length === 67 && point[0] === 0x04 && point[1] === 0x41) point = point.subarray(2);
  if (point.length !== 65 || point[0] !== 0x04) {
    throw new HsmError(
      'token_error',
      `The token returned an EC point of unexpected form (${ecPoint.length} bytes).`,
    );
  }
  return { publicKey: Buffer.from(point), address: computeAddress(hexlify(point)) };
}

/**
 * Turn the raw r ‖ s that CKM_ECDSA returns into an Ethereum-ready signature: s normalised to
 * low-s (the token returns a high s about half the time), and the recovery id found by trying
 * both and keeping the one that recovers this key (the token does not return it).
 */
export function normaliseEcdsaSignature(raw: Buffer, digest: Buffer, publicKey: Buffer): EcdsaSignature {
  if (raw.length !== 64)
    throw new HsmError('token_error', `The token returned a ${raw.length}-byte ECDSA signature.`);
  const r = raw.subarray(0, 32);
  let sValue = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  if (sValue > halfOrder) sValue = curveOrder - sValue;
  const s = Buffer.from(sValue.toString(16).padStart(64, '0'), 'hex');
  const expected = hexlify(publicKey).toLowerCase();
  for (const recoveryId of [0, 1] as const) {
    const signature = Signature.from({ r: hexlify(r), s: hexlify(s), v: 27 + recoveryId });
    if (SigningKey.recoverPublicKey(digest, signature).toLowerCase() === expected) {
      return { r: Buffer.from(r), s, recoveryId, compact: Buffer.concat([r, s, Buffer.from([recoveryId])]) };
    }
  }
  throw new HsmError('token_error', 'The token signature does not verify against the key it was made with.');
}
