import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { compilePathGlob, matchesPathGlob, normalizePathGlob } from '../../main/engine/path-glob.js';
import { TalonError } from '../../main/engine/talon-error.js';

import { validPath, validSegment } from './secret-path-arbitraries.js';

describe('matchesPathGlob', () => {
  it.each([
    ['**', 'a', true],
    ['**', 'a/b/c', true],
    ['a/**', 'a', true],
    ['a/**', 'a/b', true],
    ['a/**', 'a/b/c', true],
    ['a/**', 'ab', false],
    ['a/**', 'b/a', false],
    ['**/key', 'key', true],
    ['**/key', 'x/y/key', true],
    ['**/key', 'x/monkey', false],
    ['a/**/z', 'a/z', true],
    ['a/**/z', 'a/b/c/z', true],
    ['a/**/z', 'a/bz', false],
    ['a/**/**/z', 'a/z', true],
    ['a/*', 'a/b', true],
    ['a/*', 'a', false],
    ['a/*', 'a/b/c', false],
    ['*', 'a', true],
    ['*', 'a/b', false],
    ['a/key-*', 'a/key-', true],
    ['a/key-*', 'a/key-openai', true],
    ['a/key-*', 'a/key-x/y', false],
    ['a/*-prod', 'a/db-prod', true],
    ['a/?', 'a/b', true],
    ['a/?', 'a/bc', false],
    ['a/?', 'a/日', true],
    ['a.b/c+d', 'a.b/c+d', true],
    ['a.b/c+d', 'aXb/cccd', false],
    ['/agents/x/**/', 'agents/x/y', true],
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(matchesPathGlob(pattern, path)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['a//b', 'empty_segment'],
    ['a/../b', 'dot_segment'],
    ['a/**b', 'partial_double_star'],
    ['***', 'partial_double_star'],
    ['a/[bc]', 'invalid_character'],
    ['a\\*', 'backslash'],
  ])('rejects the pattern %j (%s)', (pattern, rule) => {
    let error: unknown;
    try {
      compilePathGlob(pattern);
    } catch (caught) {
      error = caught;
    }
    expect(TalonError.is(error, 'invalid_input')).toBe(true);
    expect((error as TalonError).details).toEqual({ pattern, rule });
    expect((error as TalonError).message).toMatch(/^Path pattern '.*'.*; .+\.$/u);
  });

  it('normalises patterns', () => {
    expect(normalizePathGlob('/a/**/**/b/')).toBe('a/**/b');
    expect(normalizePathGlob('**/**')).toBe('**');
  });

  it('returns the cached matcher for a pattern it has seen', () => {
    expect(compilePathGlob('cache/*')).toBe(compilePathGlob('cache/*'));
  });

  it('keeps working past the cache limit', () => {
    for (let i = 0; i < 1100; i += 1) expect(matchesPathGlob(`many/${i}/*`, `many/${i}/x`)).toBe(true);
    expect(matchesPathGlob('many/0/*', 'many/0/x')).toBe(true);
  });

  it("'**' matches every valid path", () => {
    fc.assert(
      fc.property(validPath, (path) => {
        expect(matchesPathGlob('**', path)).toBe(true);
      }),
    );
  });

  it('a pattern without wildcards matches exactly itself', () => {
    fc.assert(
      fc.property(validPath, validPath, (pattern, other) => {
        expect(matchesPathGlob(pattern, pattern)).toBe(true);
        expect(matchesPathGlob(pattern, other)).toBe(pattern === other);
      }),
    );
  });

  it("'a/*' never matches two or more segments after 'a'", () => {
    fc.assert(
      fc.property(fc.array(validSegment, { minLength: 2, maxLength: 5 }), (rest) => {
        expect(matchesPathGlob('a/*', ['a', ...rest].join('/'))).toBe(false);
      }),
    );
  });

  it("'a/*' matches exactly one segment after 'a'", () => {
    fc.assert(
      fc.property(validSegment, (segment) => {
        expect(matchesPathGlob('a/*', `a/${segment}`)).toBe(true);
      }),
    );
  });

  it("'p/**' matches p and everything under it, and nothing else", () => {
    fc.assert(
      fc.property(validPath, validPath, (prefix, rest) => {
        expect(matchesPathGlob(`${prefix}/**`, prefix)).toBe(true);
        expect(matchesPathGlob(`${prefix}/**`, `${prefix}/${rest}`)).toBe(true);
        expect(matchesPathGlob(`${prefix}/**`, `${prefix}x/${rest}`)).toBe(false);
      }),
    );
  });

  it('agrees with a regular-expression reading of the glob rules', () => {
    const segment = fc.oneof(
      fc.constant('**'),
      fc
        .string({ unit: fc.constantFrom('a', 'b', '*', '?'), minLength: 1, maxLength: 4 })
        .filter((s) => !s.includes('**')),
    );
    const pattern = fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => segments.join('/'));
    const path = fc
      .array(fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 1, maxLength: 4 }), {
        minLength: 1,
        maxLength: 5,
      })
      .map((segments) => segments.join('/'));
    fc.assert(
      fc.property(pattern, path, (glob, candidate) => {
        expect(matchesPathGlob(glob, candidate)).toBe(regexOracle(glob).test(candidate));
      }),
      { numRuns: 2000 },
    );
  });

  it('stays fast on patterns that make backtracking regular expressions explode', () => {
    const started = performance.now();
    expect(matchesPathGlob(`${'*a'.repeat(60)}*b`, 'a'.repeat(128))).toBe(false);
    expect(matchesPathGlob(`${'**/a/'.repeat(40)}b`, Array.from({ length: 200 }, () => 'a').join('/'))).toBe(
      false,
    );
    expect(performance.now() - started).toBeLessThan(500);
  });
});

/** Slow but obvious: fine for the short inputs above, exponential on adversarial ones. */
function regexOracle(glob: string): RegExp {
  const segments = normalizePathGlob(glob).split('/');
  const last = segments.length - 1;
  let source = '';
  segments.forEach((segment, index) => {
    if (segment === '**') {
      source +=
        index === 0 && index === last
          ? '.*'
          : index === 0
            ? '(?:.*/)?'
            : index === last
              ? '(?:/.*)?'
              : '(?:/.*)?/';
      return;
    }
    if (index > 0 && segments[index - 1] !== '**') source += '/';
    source += segment === '*' ? '[^/]+' : segment.replaceAll('*', '[^/]*').replaceAll('?', '[^/]');
  });
  return new RegExp(`^${source}$`, 'u');
}
