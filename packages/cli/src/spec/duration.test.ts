import { describe, expect, it } from 'vitest';
import { parseDurationNs } from './duration.js';

describe('parseDurationNs (Go/Docker duration syntax)', () => {
  it('reads units, sequences and fractions exactly', () => {
    expect(parseDurationNs('30s')).toBe(30_000_000_000n);
    expect(parseDurationNs('1m30s')).toBe(90_000_000_000n);
    expect(parseDurationNs('1h2m3s4ms5us6ns')).toBe(3_723_004_005_006n);
    expect(parseDurationNs('1.5h')).toBe(5_400_000_000_000n);
    expect(parseDurationNs('.5s')).toBe(500_000_000n);
    expect(parseDurationNs('0.1s')).toBe(100_000_000n);
    expect(parseDurationNs('2µs')).toBe(2_000n);
    expect(parseDurationNs('0')).toBe(0n);
    expect(parseDurationNs('0s')).toBe(0n);
  });

  it('rejects what Go rejects, and signs', () => {
    for (const bad of ['', '30', 's', '.s', '1x', '1 s', ' 1s', '-1s', '+1s', '1s ', '1.5', '1d']) {
      expect(parseDurationNs(bad), bad).toBeUndefined();
    }
  });
});
