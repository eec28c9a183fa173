import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  MAX_PATH_SEGMENT_LENGTH,
  MAX_SECRET_PATH_LENGTH,
  normalizePathPrefix,
  normalizeSecretPath,
} from '../../main/engine/secret-path.js';
import { TalonError } from '../../main/engine/talon-error.js';

import { validPath, validSegment } from './secret-path-arbitraries.js';

/** Strings made mostly of the characters that path rules care about. */
const pathLikeString = fc.string({
  unit: fc.constantFrom(...'ab/. \\\u0000\u001f\u007f\t:*?#é'),
  maxLength: 20,
});

function rejection(run: () => unknown): TalonError {
  try {
    run();
  } catch (error) {
    if (TalonError.is(error, 'invalid_input')) return error;
    throw error;
  }
  throw new Error('expected an invalid_input TalonError');
}

function normalizedOrNull(raw: string): string | null {
  try {
    return normalizeSecretPath(raw);
  } catch (error) {
    if (TalonError.is(error, 'invalid_input')) return null;
    throw error;
  }
}

describe('normalizeSecretPath', () => {
  it.each([
    ['api-keys/openai', 'api-keys/openai'],
    ['/api-keys/openai/', 'api-keys/openai'],
    ['a', 'a'],
    ['my secret/.env', 'my secret/.env'],
    ['user@example.com/token', 'user@example.com/token'],
    ['k=v:x~y+z', 'k=v:x~y+z'],
    ['日本/鍵', '日本/鍵'],
    ['cafe\u0301', 'caf\u00e9'], // NFC
  ])('accepts %j as %j', (raw, expected) => {
    expect(normalizeSecretPath(raw)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['/', 'empty'],
    ['a//b', 'empty_segment'],
    ['//a', 'empty_segment'],
    ['a//', 'empty_segment'],
    ['//', 'empty_segment'],
    ['a/./b', 'dot_segment'],
    ['a/..', 'dot_segment'],
    ['..', 'dot_segment'],
    ['a\\b', 'backslash'],
    ['a/\u0000b', 'control_character'],
    ['a\tb', 'control_character'],
    ['a\u007f', 'control_character'],
    ['a/ b', 'segment_whitespace'],
    ['a /b', 'segment_whitespace'],
    ['a/b#c', 'invalid_character'],
    ['a/b*', 'invalid_character'],
    ['a%2Fb', 'invalid_character'],
    ['a\u00a0b', 'invalid_character'],
    ['x'.repeat(MAX_PATH_SEGMENT_LENGTH + 1), 'segment_too_long'],
    [Array.from({ length: 5 }, () => 'x'.repeat(120)).join('/'), 'path_too_long'],
  ])('rejects %j (%s)', (raw, rule) => {
    const error = rejection(() => normalizeSecretPath(raw));
    expect(error.details).toEqual({ path: raw, rule });
  });

  it('accepts the length limits exactly', () => {
    expect(normalizeSecretPath('x'.repeat(MAX_PATH_SEGMENT_LENGTH))).toHaveLength(MAX_PATH_SEGMENT_LENGTH);
    const longest = ['x'.repeat(127), 'x'.repeat(127), 'x'.repeat(127), 'y'.repeat(128)].join('/');
    expect([...longest]).toHaveLength(MAX_SECRET_PATH_LENGTH);
    expect(normalizeSecretPath(longest)).toBe(longest);
    expect(rejection(() => normalizeSecretPath(`${longest}z`)).details['rule']).toBe('path_too_long');
    // Code points, not UTF-16 units: 128 astral characters are one full segment.
    expect(normalizeSecretPath('𝒜'.repeat(MAX_PATH_SEGMENT_LENGTH))).toHaveLength(
      2 * MAX_PATH_SEGMENT_LENGTH,
    );
  });

  it('names the rule and what to do', () => {
    expect(rejection(() => normalizeSecretPath('a//b')).message).toBe(
      "Secret path 'a//b' has an empty segment; separate segments with a single '/'.",
    );
    expect(rejection(() => normalizeSecretPath('a/b#c')).message).toMatch(
      /contains '#', which is not allowed; use letters/u,
    );
    expect(rejection(() => normalizeSecretPath('a\u0001')).message).toBe(
      "Secret path 'a\\u0001' contains the control character U+0001; remove it.",
    );
  });

  it('is idempotent on any string', () => {
    fc.assert(
      fc.property(fc.oneof(pathLikeString, fc.string({ unit: 'binary', maxLength: 30 })), (raw) => {
        const once = normalizedOrNull(raw);
        if (once !== null) expect(normalizeSecretPath(once)).toBe(once);
      }),
    );
  });

  it('leaves every valid path as it is, with or without surrounding slashes', () => {
    fc.assert(
      fc.property(validPath, fc.boolean(), fc.boolean(), (path, leading, trailing) => {
        expect(normalizeSecretPath(path)).toBe(path);
        expect(normalizeSecretPath(`${leading ? '/' : ''}${path}${trailing ? '/' : ''}`)).toBe(path);
      }),
    );
  });

  it("rejects any path with a '.' or '..' segment", () => {
    fc.assert(
      fc.property(
        fc.array(validSegment, { maxLength: 3 }),
        fc.constantFrom('.', '..'),
        fc.array(validSegment, { maxLength: 3 }),
        (before, dots, after) => {
          const raw = [...before, dots, ...after].join('/');
          expect(rejection(() => normalizeSecretPath(raw)).details['rule']).toBe('dot_segment');
        },
      ),
    );
  });

  it('rejects any string containing a control character', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 10 }),
        fc.integer({ min: 0, max: 0x20 }).map((code) => String.fromCharCode(code === 0x20 ? 0x7f : code)),
        fc.string({ maxLength: 10 }),
        (before, control, after) => {
          expect(() => normalizeSecretPath(`${before}${control}${after}`)).toThrow(TalonError);
        },
      ),
    );
  });
});

describe('normalizePathPrefix', () => {
  it.each([
    ['', ''],
    ['/', ''],
    ['api', 'api'],
    ['/api/', 'api/'],
    ['a/b/', 'a/b/'],
    ['config/.', 'config/.'],
    ['my ', 'my '],
  ])('accepts %j as %j', (raw, expected) => {
    expect(normalizePathPrefix(raw)).toBe(expected);
  });

  it.each([
    ['//', 'empty_segment'],
    ['a//', 'empty_segment'],
    ['a//b', 'empty_segment'],
    ['../', 'dot_segment'],
    [' a', 'segment_whitespace'],
    ['a\\', 'backslash'],
  ])('rejects %j (%s)', (raw, rule) => {
    expect(rejection(() => normalizePathPrefix(raw)).details).toEqual({ prefix: raw, rule });
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(pathLikeString, (raw) => {
        let once: string;
        try {
          once = normalizePathPrefix(raw);
        } catch {
          return;
        }
        expect(normalizePathPrefix(once)).toBe(once);
      }),
    );
  });
});
