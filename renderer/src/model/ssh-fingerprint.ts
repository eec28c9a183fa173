/**
 * The SHA-256 fingerprint of an SSH key, as `ssh-keygen -l` prints it (`SHA256:<base64, no
 * padding>`), from either an OpenSSH public key line (`ssh-ed25519 AAAA… comment`) or an OpenSSH
 * private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), whose public part is stored unencrypted.
 * Returns null for anything else (PEM RSA keys carry no public blob to hash).
 */
export async function sshFingerprint(text: string): Promise<string | null> {
  const blob = publicKeyBlob(text.trim());
  if (!blob) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', blob as Uint8Array<ArrayBuffer>));
  return `SHA256:${toBase64(digest).replace(/=+$/u, '')}`;
}

/** The key's algorithm name (`ssh-ed25519`, `ssh-rsa`, …), when the text is an OpenSSH key. */
export function sshKeyAlgorithm(text: string): string | null {
  const blob = publicKeyBlob(text.trim());
  if (!blob) return null;
  const name = readString(blob, 0);
  return name ? new TextDecoder().decode(name.value) : null;
}

function publicKeyBlob(text: string): Uint8Array | null {
  const publicLine = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)\s+([A-Za-z0-9+/=]+)/u.exec(
    text,
  );
  if (publicLine) return fromBase64(publicLine[2]!);
  const armored = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+?)-----END OPENSSH PRIVATE KEY-----/u.exec(
    text,
  );
  if (!armored) return null;
  const bytes = fromBase64(armored[1]!.replace(/\s+/gu, ''));
  if (!bytes) return null;
  const magic = new TextEncoder().encode('openssh-key-v1\0');
  if (bytes.length < magic.length || magic.some((byte, index) => bytes[index] !== byte)) return null;
  let offset = magic.length;
  for (let field = 0; field < 3; field += 1) {
    const skipped = readString(bytes, offset); // cipher name, kdf name, kdf options
    if (!skipped) return null;
    offset = skipped.next;
  }
  if (offset + 4 > bytes.length) return null;
  offset += 4; // number of keys
  return readString(bytes, offset)?.value ?? null;
}

function readString(bytes: Uint8Array, offset: number): { value: Uint8Array; next: number } | null {
  if (offset + 4 > bytes.length) return null;
  const length = new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0);
  const start = offset + 4;
  if (start + length > bytes.length) return null;
  return { value: bytes.subarray(start, start + length), next: start + length };
}

function fromBase64(text: string): Uint8Array | null {
  try {
    const binary = atob(text);
    return Uint8Array.from(binary, (character) => character.charCodeAt(0));
  } catch {
    return null;
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
