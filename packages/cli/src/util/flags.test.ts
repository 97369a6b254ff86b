import { describe, expect, it } from 'vitest';
import { parseDurationFlag } from './flags.js';

describe('parseDurationFlag', () => {
  it('reads ms, s, m, h, d and their sums', () => {
    expect(parseDurationFlag('250ms', '--ttl')).toBe(250);
    expect(parseDurationFlag('90s', '--ttl')).toBe(90_000);
    expect(parseDurationFlag('30m', '--ttl')).toBe(1_800_000);
    expect(parseDurationFlag('1h30m', '--ttl')).toBe(5_400_000);
    expect(parseDurationFlag('7d', '--ttl')).toBe(604_800_000);
  });

  it('refuses anything else with a usage error naming the flag', () => {
    for (const bad of ['', '10', 'm', '1 h', '-1h', '1h+', '0s', '1y', '99999999999999999d']) {
      expect(() => parseDurationFlag(bad, '--ttl'), bad).toThrow(
        expect.objectContaining({ code: 'IMG_CLI_USAGE', message: expect.stringContaining('--ttl') }),
      );
    }
  });
});
