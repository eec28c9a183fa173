import { HsmError } from './hsm-error.js';

/**
 * The stored form of a wrapped data key. It records the mechanism and the label of the key that
 * wrapped it, so a blob made by one mechanism stays readable after the default changes and keys
 * can be rotated.
 *
 *   byte 0      format version (1)
 *   byte 1      mechanism id
 *   byte 2      label length L (1..64)
 *   3 .. 3+L    wrapping key label, UTF-8
 *   rest        mechanism payload (see payloadLength)
 *
 * For AES-GCM the header (bytes 0 .. 3+L) is the AAD, so a blob cannot be relabelled.
 */
export const wrapMechanisms = ['aes-gcm', 'aes-key-wrap', 'rsa-oaep-sha256', 'rsa-oaep-sha1'] as const;
export type WrapMechanism = (typeof wrapMechanisms)[number];

const formatVersion = 1;
const mechanismIds: Record<WrapMechanism, number> = {
  'aes-key-wrap': 1,
  'aes-gcm': 2,
  'rsa-oaep-sha256': 3,
  'rsa-oaep-sha1': 4,
};
const maxLabelLength = 64;
export const gcmIvLength = 12;
export const gcmTagLength = 16;
export const dataKeyLength = 32;

export interface WrappedKeyBlob {
  mechanism: WrapMechanism;
  keyLabel: string;
  header: Buffer;
  payload: Buffer;
}

export function encodeWrappedKey(mechanism: WrapMechanism, keyLabel: string, payload: Buffer): Buffer {
  return Buffer.concat([wrappedKeyHeader(mechanism, keyLabel), payload]);
}

export function wrappedKeyHeader(mechanism: WrapMechanism, keyLabel: string): Buffer {
  const label = Buffer.from(keyLabel, 'utf8');
  if (label.length === 0 || label.length > maxLabelLength)
    throw new Error(`key label must be 1..${maxLabelLength} bytes`);
  return Buffer.concat([Buffer.from([formatVersion, mechanismIds[mechanism], label.length]), label]);
}

function damaged(why: string): HsmError {
  return new HsmError(
    'invalid_blob',
    `A wrapped key is damaged or was not made by Talon (${why}). Restore the database from a backup; the value it protects cannot be read.`,
  );
}

/** Parse and check the shape of a blob; its integrity is proven only by unwrapping it. */
export function decodeWrappedKey(blob: Buffer): WrappedKeyBlob {
  if (blob.length < 4) throw damaged('too short');
  if (blob[0] !== formatVersion) throw damaged(`unknown format version ${blob[0]}`);
  const mechanism = (Object.keys(mechanismIds) as WrapMechanism[]).find(
    (name) => mechanismIds[name] === blob[1],
  );
  if (!mechanism) throw damaged(`unknown mechanism id ${blob[1]}`);
  const labelLength = blob[2]!;
  if (labelLength === 0 || labelLength > maxLabelLength || blob.length < 3 + labelLength)
    throw damaged('bad key label');
  const header = blob.subarray(0, 3 + labelLength);
  const keyLabel = header.subarray(3).toString('utf8');
  const payload = blob.subarray(3 + labelLength);
  const expected = payloadLength(mechanism);
  if (expected !== undefined && payload.length !== expected) {
    throw damaged(`payload is ${payload.length} bytes, expected ${expected}`);
  }
  return { mechanism, keyLabel, header, payload };
}

/** Exact payload sizes; an RSA payload's size depends on the key and is checked by the token. */
function payloadLength(mechanism: WrapMechanism): number | undefined {
  switch (mechanism) {
    case 'aes-key-wrap':
      return dataKeyLength + 8;
    case 'aes-gcm':
      return gcmIvLength + dataKeyLength + gcmTagLength;
    case 'rsa-oaep-sha256':
    case 'rsa-oaep-sha1':
      return undefined;
  }
}
