import { describe, expect, it } from 'vitest';

import { parseEnvBundle } from '../../main/engine/env-bundle.js';
import { TalonError } from '../../main/engine/talon-error.js';

describe('parseEnvBundle', () => {
  it('reads KEY=VALUE lines in order, skipping blanks and comments', () => {
    const text = [
      '# database',
      'DB_HOST=localhost',
      '',
      '   ',
      'export DB_PASSWORD="p@ss=word #1"',
      "  API_KEY = 'sk-123'  ",
      'EMPTY=',
      'URL=https://x.test/?a=b&c=d',
      '\t# indented comment',
      'HASH=abc#def',
      'HALF="unbalanced',
      'Q="',
      '_private=1',
    ].join('\r\n');
    expect(parseEnvBundle(text)).toEqual([
      { key: 'DB_HOST', value: 'localhost' },
      { key: 'DB_PASSWORD', value: 'p@ss=word #1' },
      { key: 'API_KEY', value: 'sk-123' },
      { key: 'EMPTY', value: '' },
      { key: 'URL', value: 'https://x.test/?a=b&c=d' },
      { key: 'HASH', value: 'abc#def' },
      { key: 'HALF', value: '"unbalanced' },
      { key: 'Q', value: '"' },
      { key: '_private', value: '1' },
    ]);
  });

  it('keeps repeated keys in order', () => {
    expect(parseEnvBundle('A=1\nA=2')).toEqual([
      { key: 'A', value: '1' },
      { key: 'A', value: '2' },
    ]);
  });

  it('handles a BOM, lone CR line ends and an empty bundle', () => {
    expect(parseEnvBundle('\uFEFFA=1\rB=2')).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: '2' },
    ]);
    expect(parseEnvBundle('')).toEqual([]);
  });

  it.each([
    ['A=1\nthis-is-the-secret-value', 2, 'missing_equals'],
    ['A=1\n\n1BAD=this-is-the-secret-value', 3, 'invalid_key'],
    ['BAD-KEY=this-is-the-secret-value', 1, 'invalid_key'],
    ['=this-is-the-secret-value', 1, 'invalid_key'],
    ['export =this-is-the-secret-value', 1, 'invalid_key'],
    ['MY KEY=this-is-the-secret-value', 1, 'invalid_key'],
  ])('rejects %j at line %i without echoing it', (text, line, rule) => {
    let error: unknown;
    try {
      parseEnvBundle(text);
    } catch (caught) {
      error = caught;
    }
    expect(TalonError.is(error, 'invalid_input')).toBe(true);
    const talonError = error as TalonError;
    expect(talonError.message).toContain(`line ${line}`);
    expect(talonError.message).not.toContain('this-is-the-secret-value');
    expect(talonError.message).not.toContain('secret');
    expect(JSON.stringify(talonError.details)).not.toContain('secret');
    expect(talonError.details).toEqual({ line, rule });
  });
});
