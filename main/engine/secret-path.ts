import { TalonError } from './talon-error.js';

/**
 * The one place where the rules for secret paths live. Secret paths, list prefixes and policy
 * path patterns share them; only patterns may also hold the wildcards `*` and `?`.
 *
 * A path is `/`-separated segments. Normalising NFC-composes it (so `é` typed two ways is one
 * secret) and trims one leading and one trailing `/`. Lengths count Unicode code points.
 *
 * Allowed in a segment: Unicode letters (with their combining marks) and digits, and
 * `- _ . @ + = : ~` and the space (not at either end of a segment). Everything else is refused,
 * notably `\` (a second separator on Windows), `%` (half-decoded URLs), `#`, `?`, `*`, `[` `]`
 * and `{` `}` (URL and glob syntax), quotes, `$`, `!`, `;`, `|` and `,` (shell and list syntax),
 * and every control character and non-ASCII space.
 */

export const MAX_SECRET_PATH_LENGTH = 512;
export const MAX_PATH_SEGMENT_LENGTH = 128;

export type VaultPathKind = 'path' | 'prefix' | 'pattern';

const nouns: Record<VaultPathKind, string> = {
  path: 'Secret path',
  prefix: 'Secret path prefix',
  pattern: 'Path pattern',
};

const segmentCharacter = /^[\p{L}\p{M}\p{N}\-_.@+=: ~]$/u;
const patternCharacter = /^[\p{L}\p{M}\p{N}\-_.@+=: ~*?]$/u;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const forbiddenControl = /[\u0000-\u001f\u007f]/u;
const forbiddenControlGlobal = new RegExp(forbiddenControl.source, 'gu');

/** Paths already found valid, and their canonical forms: every request names one, mostly the same few. */
const knownPaths = new Map<string, string>();
const maxKnownPaths = 4096;

/** Returns the canonical form of a secret path, or throws `invalid_input` naming the rule broken. */
export function normalizeSecretPath(raw: string): string {
  const known = knownPaths.get(raw);
  if (known !== undefined) return known;
  const path = normalizeVaultPath(raw, 'path');
  if (knownPaths.size >= maxKnownPaths) knownPaths.clear();
  knownPaths.set(raw, path);
  return path;
}

/**
 * Returns the canonical form of a list prefix: like a path, but it may be empty (everything) and
 * keeps a trailing `/`. It filters by plain string prefix, so `api` also lists `api-keys/x`.
 */
export function normalizePathPrefix(raw: string): string {
  return normalizeVaultPath(raw, 'prefix');
}

/** Shared by paths, prefixes and (through path-glob.ts) patterns; throws `invalid_input`. */
export function normalizeVaultPath(raw: unknown, kind: VaultPathKind): string {
  const noun = nouns[kind];
  if (typeof raw !== 'string') {
    throw new TalonError('invalid_input', `${noun} must be a string.`, {
      details: { [kind]: raw === undefined ? null : String(raw), rule: 'not_a_string' },
    });
  }
  const reject = (rule: string, problem: string, fix: string): never => {
    throw new TalonError('invalid_input', `${noun} ${shown(raw)} ${problem}; ${fix}`, {
      details: { [kind]: raw, rule },
    });
  };

  const text = raw.normalize('NFC');
  const control = forbiddenControl.exec(text);
  if (control) {
    reject('control_character', `contains the control character ${codePoint(control[0])}`, 'remove it.');
  }
  if (text.includes('\\')) {
    reject('backslash', 'contains a backslash', "separate segments with '/'.");
  }

  let body = text.startsWith('/') ? text.slice(1) : text;
  const trailingSlash = body.endsWith('/');
  if (trailingSlash) body = body.slice(0, -1);
  if (body === '') {
    if (trailingSlash)
      reject('empty_segment', 'has an empty segment', "separate segments with a single '/'.");
    if (kind === 'prefix') return '';
    reject(
      'empty',
      'is empty',
      kind === 'pattern'
        ? "give a pattern such as 'api-keys/*' or '**' for every path."
        : "give a path such as 'api-keys/openai'.",
    );
  }

  const length = [...body].length;
  if (length > MAX_SECRET_PATH_LENGTH) {
    reject(
      'path_too_long',
      `is ${length} characters long`,
      `the limit is ${MAX_SECRET_PATH_LENGTH}; use a shorter path.`,
    );
  }

  const segments = body.split('/');
  segments.forEach((segment, index) => {
    // A prefix without a trailing '/' may end inside a segment: 'config/.' lists 'config/.env'.
    const partial = kind === 'prefix' && !trailingSlash && index === segments.length - 1;
    if (segment === '') {
      reject('empty_segment', 'has an empty segment', "separate segments with a single '/'.");
    }
    if (!partial && (segment === '.' || segment === '..')) {
      reject(
        'dot_segment',
        `has a '${segment}' segment`,
        "'.' and '..' are not allowed as segments; name the secret by its full path.",
      );
    }
    if (/^\s/u.test(segment) || (!partial && /\s$/u.test(segment))) {
      reject(
        'segment_whitespace',
        `has a segment that starts or ends with whitespace`,
        'trim the spaces around each segment.',
      );
    }
    const segmentLength = [...segment].length;
    if (segmentLength > MAX_PATH_SEGMENT_LENGTH) {
      reject(
        'segment_too_long',
        `has a segment of ${segmentLength} characters`,
        `the limit is ${MAX_PATH_SEGMENT_LENGTH} per segment; split it with '/'.`,
      );
    }
    const allowed = kind === 'pattern' ? patternCharacter : segmentCharacter;
    for (const character of segment) {
      if (!allowed.test(character)) {
        const display = /^[\x21-\x7e]$/u.test(character) ? `'${character}'` : codePoint(character);
        reject(
          'invalid_character',
          `contains ${display}, which is not allowed`,
          kind === 'pattern'
            ? 'use letters, digits, spaces, - _ . @ + = : ~ and the wildcards *, ** and ?.'
            : 'use letters, digits, spaces and - _ . @ + = : ~.',
        );
      }
    }
  });

  return kind === 'prefix' && trailingSlash ? `${body}/` : body;
}

function codePoint(character: string): string {
  return `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Quotes a path for a message: control characters escaped, long paths shortened. */
function shown(raw: string): string {
  const characters = [...raw];
  const head = characters.length > 80 ? `${characters.slice(0, 77).join('')}...` : raw;
  return `'${head.replace(forbiddenControlGlobal, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`)}'`;
}
