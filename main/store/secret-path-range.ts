/**
 * Which paths a secret listing covers, as a range over the `(vault_id, path)` index rather than a
 * LIKE (which would scan the vault, and treat `%` and `_` in a prefix as wildcards).
 *
 * A prefix is a plain string prefix, as in 1Claw: `a/b` covers `a/b`, `a/b/c` and `a/bc`.
 * SQLite compares text byte by byte in UTF-8, which is code point order, so every bound here is
 * computed in code points. Paths are expected to be well-formed strings (no lone surrogates); the
 * engine refuses others.
 */
export interface SecretPathRange {
  /** The lower bound. */
  from: string;
  /** Whether a path equal to `from` is in the range (a prefix) or not (a keyset cursor). */
  fromInclusive: boolean;
  /** The exclusive upper bound; none when every path from `from` on is in range. */
  below: string | undefined;
}

export function secretPathRange({
  prefix = '',
  after,
}: {
  prefix?: string;
  after?: string;
}): SecretPathRange {
  const below = firstPathAfterPrefix(prefix);
  if (after !== undefined && comparePaths(after, prefix) >= 0) {
    return { from: after, fromInclusive: false, below };
  }
  return { from: prefix, fromInclusive: true, below };
}

/** Orders paths as SQLite does: by UTF-8 bytes, which is by code point. */
function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The smallest string above every string that starts with `prefix`: the prefix with its last code
 * point raised by one (dropping trailing U+10FFFF, which cannot be raised). Undefined when no bound
 * is needed: for an empty prefix, or one of U+10FFFF only, since every path at or above it starts
 * with it.
 */
function firstPathAfterPrefix(prefix: string): string | undefined {
  const codePoints = Array.from(prefix, (char) => char.codePointAt(0) ?? 0);
  while (codePoints.length > 0) {
    const last = codePoints.pop() ?? 0;
    // After U+D7FF this gives a lone surrogate, which the driver writes as the bytes ED A0 80:
    // still above every path starting with the prefix and below every other.
    if (last < 0x10ffff) return String.fromCodePoint(...codePoints, last + 1);
  }
  return undefined;
}
