import { describe, expect, it } from 'vitest';
import { formatTimestampUs } from '../../../src/ecs/timestamp';

// Reference: Date#toISOString for the milliseconds, the last three digits by hand.
function reference(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  const rest = us - ms * 1000;
  return iso.slice(0, -1) + String(rest).padStart(3, '0') + 'Z';
}

describe('formatTimestampUs', () => {
  const fixed: Array<[number, string]> = [
    [0, '1970-01-01T00:00:00.000000Z'],
    [1, '1970-01-01T00:00:00.000001Z'],
    [1795297490123456, '2026-11-21T21:44:50.123456Z'],
    [951782400000000, '2000-02-29T00:00:00.000000Z'],
    [951868799999999, '2000-02-29T23:59:59.999999Z'],
    [4107542399999999, '2100-02-28T23:59:59.999999Z'],
    [4107542400000000, '2100-03-01T00:00:00.000000Z'],
    [-1, '1969-12-31T23:59:59.999999Z'],
    [1795297490123456.5, '2026-11-21T21:44:50.123456Z'],
    [Number.NaN, '1970-01-01T00:00:00.000000Z'],
  ];
  for (const [us, expected] of fixed) {
    it(`${us} -> ${expected}`, () => {
      expect(formatTimestampUs(us)).toBe(expected);
    });
  }

  it('agrees with Date for random instants 1900..2200, in and out of the per-second cache', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const lo = -2208988800e6;
    const hi = 7258118400e6;
    for (let i = 0; i < 20000; i++) {
      const us = Math.floor(lo + rnd() * (hi - lo));
      expect(formatTimestampUs(us)).toBe(reference(us));
      // same second, different microseconds
      const next = us - (((us % 1_000_000) + 1_000_000) % 1_000_000) + Math.floor(rnd() * 1e6);
      expect(formatTimestampUs(next)).toBe(reference(next));
      expect(formatTimestampUs(us)).toBe(reference(us));
    }
  });

  it('formats years past 9999 as ISO expanded years like Date does', () => {
    const us = 253402300800000000;
    expect(formatTimestampUs(us)).toBe('+010000-01-01T00:00:00.000000Z');
    expect(new Date(us / 1000).toISOString()).toBe('+010000-01-01T00:00:00.000Z');
  });
});
