/**
 * The live preview of a policy's path pattern in the editor: which existing secrets it matches.
 * The engine's `path-glob.ts` is the rule (the renderer may not import the engine); this is its
 * mirror for the preview only — the engine still decides every access — and a test checks the
 * two agree on generated patterns and paths. `*` matches within one segment, `?` one character,
 * `**` (a whole segment) any number of segments, none included.
 */
export function previewGlobMatches(pattern: string, path: string): boolean {
  const trimmed = pattern.trim().replace(/^\/+|\/+$/gu, '');
  if (trimmed === '') return false;
  const segments = trimmed
    .split('/')
    .filter((segment, index, all) => !(segment === '**' && all[index - 1] === '**'));
  if (segments.some((segment) => segment.includes('**') && segment !== '**')) return false;
  return matchSegments(segments, path.split('/'));
}

function matchSegments(pattern: string[], path: string[]): boolean {
  let p = 0;
  let i = 0;
  let star = -1;
  let starItem = 0;
  while (i < path.length) {
    const token = pattern[p];
    if (token === '**') {
      star = p;
      starItem = i;
      p += 1;
    } else if (token !== undefined && matchSegment(token, path[i]!)) {
      p += 1;
      i += 1;
    } else if (star !== -1) {
      p = star + 1;
      starItem += 1;
      i = starItem;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '**') p += 1;
  return p === pattern.length;
}

function matchSegment(token: string, segment: string): boolean {
  if (token === '*' && segment === '') return false;
  const tokens = [...token];
  const characters = [...segment];
  let t = 0;
  let c = 0;
  let star = -1;
  let starAt = 0;
  while (c < characters.length) {
    const current = tokens[t];
    if (current === '*') {
      star = t;
      starAt = c;
      t += 1;
    } else if (current !== undefined && (current === '?' || current === characters[c])) {
      t += 1;
      c += 1;
    } else if (star !== -1) {
      t = star + 1;
      starAt += 1;
      c = starAt;
    } else {
      return false;
    }
  }
  while (t < tokens.length && tokens[t] === '*') t += 1;
  return t === tokens.length;
}
