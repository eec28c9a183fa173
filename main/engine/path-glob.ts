import { normalizeVaultPath } from './secret-path.js';
import { TalonError } from './talon-error.js';

/**
 * Policy path patterns. `*` matches one whole segment or part of one (never a `/`), `**` (a whole
 * segment) matches any number of segments including none, `?` matches one character within a
 * segment; everything else is literal. Matchers expect a normalised secret path.
 */
export type PathGlobMatcher = (path: string) => boolean;

export const PATH_GLOB_CACHE_LIMIT = 1000;

const compiled = new Map<string, PathGlobMatcher>();

/** Canonical form of a pattern (slashes trimmed, `**` runs collapsed); throws `invalid_input`. */
export function normalizePathGlob(pattern: string): string {
  const segments = normalizeVaultPath(pattern, 'pattern').split('/');
  const canonical: string[] = [];
  for (const segment of segments) {
    if (segment.includes('**') && segment !== '**') {
      throw new TalonError(
        'invalid_input',
        `Path pattern '${pattern}' has '**' inside the segment '${segment}'; '**' must be a whole segment (as in 'a/**/b'), use '*' to match part of a segment.`,
        { details: { pattern, rule: 'partial_double_star' } },
      );
    }
    if (segment === '**' && canonical.at(-1) === '**') continue;
    canonical.push(segment);
  }
  return canonical.join('/');
}

export function compilePathGlob(pattern: string): PathGlobMatcher {
  const cached = compiled.get(pattern);
  if (cached) {
    // Re-insert so the Map's insertion order doubles as least-recently-used order.
    compiled.delete(pattern);
    compiled.set(pattern, cached);
    return cached;
  }
  const segments = normalizePathGlob(pattern)
    .split('/')
    .map((segment) => (segment === '**' ? anyDepth : [...segment]));
  const matcher: PathGlobMatcher = (path) =>
    matchSequence(segments, path.split('/'), (segment) => segment === anyDepth, matchSegment);
  compiled.set(pattern, matcher);
  if (compiled.size > PATH_GLOB_CACHE_LIMIT) {
    const oldest = compiled.keys().next();
    if (!oldest.done) compiled.delete(oldest.value);
  }
  return matcher;
}

export function matchesPathGlob(pattern: string, path: string): boolean {
  return compilePathGlob(pattern)(path);
}

const anyDepth = Symbol('**');
type PatternSegment = typeof anyDepth | string[];

function matchSegment(pattern: PatternSegment, segment: string): boolean {
  if (pattern === anyDepth) return false;
  // A whole-segment '*' stands for one segment, and segments are never empty.
  if (pattern.length === 1 && pattern[0] === '*' && segment === '') return false;
  return matchSequence(
    pattern,
    [...segment],
    (token) => token === '*',
    (token, character) => token === '?' || token === character,
  );
}

/**
 * Wildcard matching without backtracking blow-up (a regular expression would take exponential
 * time on patterns like '*a*a*a*b'): the classic two-pointer walk that, on a mismatch, lets the
 * last star swallow one more item. Each non-star token consumes exactly one item, which is what
 * makes the greedy walk exact. O(pattern × items) token comparisons.
 */
function matchSequence<T, I>(
  tokens: readonly T[],
  items: readonly I[],
  isStar: (token: T) => boolean,
  matchesOne: (token: T, item: I) => boolean,
): boolean {
  let t = 0;
  let i = 0;
  let star = -1;
  let starItem = 0;
  while (i < items.length) {
    const token = tokens[t];
    if (token !== undefined && isStar(token)) {
      star = t;
      starItem = i;
      t += 1;
    } else if (token !== undefined && matchesOne(token, items[i] as I)) {
      t += 1;
      i += 1;
    } else if (star !== -1) {
      t = star + 1;
      starItem += 1;
      i = starItem;
    } else {
      return false;
    }
  }
  while (t < tokens.length && isStar(tokens[t] as T)) t += 1;
  return t === tokens.length;
}
