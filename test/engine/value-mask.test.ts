import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValueMasker, maskText, maskedForms, minMaskedLength } from '../../main/engine/value-mask.js';

/** The reference: every occurrence of every form in the whole text, runs merged, each run → `***`. */
function referenceMask(text: Buffer, forms: Buffer[]): Buffer {
  const covered = new Array<boolean>(text.length).fill(false);
  for (const form of forms) {
    for (let at = 0; at + form.length <= text.length; at += 1) {
      if (text.subarray(at, at + form.length).equals(form)) covered.fill(true, at, at + form.length);
    }
  }
  const out: Buffer[] = [];
  for (let i = 0; i < text.length; i += 1) {
    if (!covered[i]) out.push(text.subarray(i, i + 1));
    else if (i === 0 || !covered[i - 1]) out.push(Buffer.from('***'));
  }
  return Buffer.concat(out);
}

function streamed(text: Buffer, forms: Buffer[], cuts: number[]): Buffer {
  const masker = new ValueMasker(forms);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= from || cut >= text.length) continue;
    out.push(masker.write(text.subarray(from, cut)));
    from = cut;
  }
  out.push(masker.write(text.subarray(from)), masker.end());
  return Buffer.concat(out);
}

const secretValue = fc
  .string({
    unit: fc.constantFrom(...'abcxyzAB0189+/=-_%:@ é€'.split('')),
    minLength: minMaskedLength,
    maxLength: 24,
  })
  .filter((value) => [...value].length >= minMaskedLength && !value.includes('*'));

const noise = fc.string({ unit: fc.constantFrom(...'abcxyz012 +/=%\n:é'.split('')), maxLength: 30 });

describe('value masking', () => {
  it('masks a value and its base64, base64url, percent- and JSON-encoded forms', () => {
    const value = 'sk_live/4eC39+HqLy?=ü';
    const encodings = [
      value,
      Buffer.from(value).toString('base64'),
      Buffer.from(value).toString('base64url'),
      encodeURIComponent(value),
      encodeURIComponent(value).replace(/%[0-9A-F]{2}/gu, (e) => e.toLowerCase()),
      JSON.stringify(value).slice(1, -1),
      Buffer.from(`user:${value}`).toString('base64'), // inside a longer encoded text (Basic auth)
      Buffer.from(`ab${value}`).toString('base64'),
    ];
    for (const text of encodings) {
      const masked = maskText(`before ${text} after`, [value]);
      expect(masked).toMatch(/^before .*\*\*\*.* after$/u);
      expect(masked).not.toContain(value);
      expect(masked).not.toContain(Buffer.from(value).toString('base64').slice(0, 12));
    }
  });

  it(`leaves values shorter than ${minMaskedLength} characters alone`, () => {
    expect(maskedForms(['abc'])).toEqual([]);
    expect(maskText('abc def', ['abc'])).toBe('abc def');
  });

  it('gives the reference result for any values, text and chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(secretValue, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(noise, fc.nat(3), fc.nat(6)), { maxLength: 8 }),
        fc.array(fc.nat(400), { maxLength: 30 }),
        (values, pieces, cuts) => {
          const forms = maskedForms(values);
          const parts: string[] = [];
          for (const [text, which, encoding] of pieces) {
            const value = values[which % values.length]!;
            const bytes = Buffer.from(value);
            const encoded = [
              value,
              bytes.toString('base64'),
              bytes.toString('base64url'),
              encodeURIComponent(value),
              value.slice(0, 3), // a partial value, which must stay
              Buffer.from(`x${value}`).toString('base64'),
              value + value.slice(1), // overlapping occurrences
            ][encoding]!;
            parts.push(text, encoded);
          }
          const text = Buffer.from(parts.join(''));
          const expected = referenceMask(text, forms);
          expect(streamed(text, forms, cuts).toString('hex')).toBe(expected.toString('hex'));
          const output = expected.toString('utf8');
          for (const value of values) expect(output).not.toContain(value);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('holds back no more than a possible partial match', () => {
    const masker = new ValueMasker(maskedForms(['supersecret']));
    expect(masker.write('hello sup').toString()).toBe('hello ');
    expect(masker.write('erb').toString()).toBe('superb');
    expect(masker.write('... supersec').toString()).toBe('... ');
    expect(masker.write('ret!').toString()).toBe('***!');
    expect(masker.end().toString()).toBe('');
  });

  it('masks a longer value that continues a shorter one, across chunks', () => {
    const masker = new ValueMasker(maskedForms(['abcd', 'abcdefgh']));
    const out = [masker.write('xxabcd'), masker.write('efgh yy'), masker.end()];
    expect(Buffer.concat(out).toString()).toBe('xx*** yy');
  });
});
