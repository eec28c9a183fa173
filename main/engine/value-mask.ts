/**
 * Masking of secret values in output that Talon passes on but must not reveal: the stdout and
 * stderr of `talon run`, the response of `http_request`. A value is masked as it is and in the
 * encodings a program is likely to print it in: base64 and base64url (at each of the three byte
 * alignments, so a value inside a longer encoded text such as `user:password` is caught too),
 * percent-encoding (upper- and lower-case hex, and form encoding) and a JSON string's escaping.
 *
 * Masking works on bytes, so a value split across chunks (or across a multi-byte character) is
 * found all the same. The masked text is the union of every occurrence of every form, each run
 * replaced once by `***`; overlapping and adjacent occurrences become one run. The stream holds
 * back only the bytes that could still be the start of an occurrence (fewer than the longest
 * form), and releases everything at `end()`.
 *
 * Values shorter than `minMaskedLength` (4) characters are NOT masked: masking `1` or `on` would
 * garble every line while hiding nothing (such a value is guessable anyway). Callers say so.
 */

export const maskReplacement = '***';

/** Values with fewer characters than this are not masked (see above). */
export const minMaskedLength = 4;

/** The byte strings to mask for `values`: every form of every value long enough, longest first. */
export function maskedForms(values: Iterable<string>): Buffer[] {
  const forms = new Set<string>();
  for (const value of values) {
    if ([...value].length < minMaskedLength) continue;
    for (const form of formsOf(value)) if (form.length >= minMaskedLength) forms.add(form);
  }
  return [...forms].map((form) => Buffer.from(form, 'utf8')).sort((a, b) => b.length - a.length);
}

function formsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const uri = encodeURIComponent(value);
  const forms = [
    value,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    uri,
    uri.replace(/%[0-9A-F]{2}/gu, (escape) => escape.toLowerCase()),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
  ];
  // Inside a longer encoded text a value starts at one of three byte alignments; for each, the
  // characters that depend on the value's bytes alone.
  for (let shift = 0; shift < 3; shift += 1) {
    const shifted = Buffer.concat([Buffer.alloc(shift), bytes]);
    const first = Math.ceil((shift * 8) / 6);
    const last = Math.floor((shifted.length * 8) / 6);
    forms.push(
      shifted.toString('base64').slice(first, last),
      shifted.toString('base64url').slice(first, last),
    );
  }
  return forms;
}

/** Masks a whole text at once; the same result the stream gives for any chunking. */
export function maskText(text: string, values: Iterable<string>): string {
  const masker = new ValueMasker(maskedForms(values));
  return Buffer.concat([masker.write(Buffer.from(text, 'utf8')), masker.end()]).toString('utf8');
}

/**
 * A streaming masker: `write` each chunk in order and pass on what it returns, then pass on what
 * `end` returns. Not a Transform stream, so that the caller decides where bytes go.
 */
export class ValueMasker {
  private readonly forms: Buffer[];
  private readonly longest: number;
  /** Bytes kept for matching; they start at stream offset `base`. */
  private pending: Buffer = Buffer.alloc(0);
  private base = 0;
  /** Stream offset up to which output has been produced. */
  private emitted = 0;
  /** Stream offset where the last mask run ended (a run continuing from there adds no `***`). */
  private maskedUntil = -1;

  constructor(forms: readonly Buffer[]) {
    this.forms = forms.filter((form) => form.length > 0);
    this.longest = this.forms.reduce((max, form) => Math.max(max, form.length), 0);
  }

  write(chunk: Buffer | string): Buffer {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (this.forms.length === 0) return bytes;
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    return this.release(false);
  }

  /** The rest of the output: nothing more can arrive, so nothing is held back. */
  end(): Buffer {
    if (this.forms.length === 0) return Buffer.alloc(0);
    const rest = this.release(true);
    this.pending = Buffer.alloc(0);
    return rest;
  }

  private release(final: boolean): Buffer {
    const buffer = this.pending;
    const end = this.base + buffer.length;
    const runs = this.maskRuns(buffer);
    // The first offset where a form may begin whose end has not arrived yet.
    const held = final ? end : this.base + this.firstPartialMatch(buffer);
    const out: Buffer[] = [];
    let cursor = this.emitted;
    for (const [start, stop] of runs) {
      if (start >= held) break;
      if (stop <= cursor) continue;
      if (start > cursor) out.push(buffer.subarray(cursor - this.base, start - this.base));
      if (start > this.maskedUntil) out.push(Buffer.from(maskReplacement));
      cursor = stop;
      this.maskedUntil = stop;
    }
    if (held > cursor) {
      out.push(buffer.subarray(cursor - this.base, held - this.base));
      cursor = held;
    }
    this.emitted = cursor;
    // Keep from where a form may still begin (bytes already masked stay for matching only).
    const keepFrom = Math.min(held, end);
    this.pending = Buffer.from(buffer.subarray(keepFrom - this.base));
    this.base = keepFrom;
    return Buffer.concat(out);
  }

  /** Every occurrence of every form, merged into runs [start, stop) of stream offsets, in order. */
  private maskRuns(buffer: Buffer): [number, number][] {
    const found: [number, number][] = [];
    for (const form of this.forms) {
      for (let at = buffer.indexOf(form); at !== -1; at = buffer.indexOf(form, at + 1)) {
        found.push([this.base + at, this.base + at + form.length]);
      }
    }
    found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const runs: [number, number][] = [];
    for (const [start, stop] of found) {
      const last = runs[runs.length - 1];
      if (last && start <= last[1]) last[1] = Math.max(last[1], stop);
      else runs.push([start, stop]);
    }
    return runs;
  }

  /** Index in `buffer` of the earliest suffix that is a proper prefix of a form; its length if none. */
  private firstPartialMatch(buffer: Buffer): number {
    for (let at = Math.max(0, buffer.length - this.longest + 1); at < buffer.length; at += 1) {
      const tail = buffer.subarray(at);
      if (this.forms.some((form) => form.length > tail.length && form.subarray(0, tail.length).equals(tail)))
        return at;
    }
    return buffer.length;
  }
}
