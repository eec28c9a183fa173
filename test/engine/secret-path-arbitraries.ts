import fc from 'fast-check';

/** Valid segments and paths, drawn from characters each path rule treats differently. */
const segmentCharacters = [...'abcXYZ019-_.@+=:~ é日'];

export const validSegment = fc
  .string({ unit: fc.constantFrom(...segmentCharacters), minLength: 1, maxLength: 12 })
  .filter((s) => s.trim() === s && s !== '.' && s !== '..');

export const validPath = fc
  .array(validSegment, { minLength: 1, maxLength: 6 })
  .map((segments) => segments.join('/'));
