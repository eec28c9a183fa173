import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { newId } from '../../main/store/ids.js';

describe('newId', () => {
  it('makes valid, distinct UUID v7s that carry the current time', () => {
    const before = Date.now();
    const ids = Array.from({ length: 1000 }, newId);
    const after = Date.now();
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
      expect(id[19]).toMatch(/[89ab]/); // RFC 9562 variant
      const millis = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
      expect(millis).toBeGreaterThanOrEqual(before);
      expect(millis).toBeLessThanOrEqual(after);
    }
  });

  it('sorts by time across milliseconds', async () => {
    const first = newId();
    await new Promise((resolve) => setTimeout(resolve, 3));
    expect(newId() > first).toBe(true);
  });
});
