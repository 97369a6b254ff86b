import { describe, expect, it } from 'vitest';
import { formatPlatform, parsePlatform, platformMatchRank, selectPlatform } from './platform.js';

describe('platform', () => {
  it('parses and normalises', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux/aarch64/v8')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(formatPlatform(parsePlatform('linux/x86_64'))).toBe('linux/amd64');
  });

  it('rejects malformed platforms naming the field', () => {
    expect(() => parsePlatform('linux', 'spec.platform')).toThrow(/spec\.platform: invalid platform "linux"/);
    expect(() => parsePlatform('linux//v7')).toThrow(/invalid platform/);
    expect(() => parsePlatform('a/b/c/d')).toThrow(/invalid platform/);
  });

  it('matches with variant fallback to older variants only', () => {
    const want = parsePlatform('linux/arm/v7');
    expect(platformMatchRank(want, { os: 'linux', architecture: 'arm', variant: 'v7' })).toBe(0);
    expect(platformMatchRank(want, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(1);
    expect(platformMatchRank(want, { os: 'linux', architecture: 'arm', variant: 'v8' })).toBeUndefined();
    expect(platformMatchRank(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64' })).toBe(0);
    expect(
      platformMatchRank(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'arm64' }),
    ).toBeUndefined();
  });

  it('selects the best candidate, first among equals', () => {
    const cands = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v6' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ];
    expect(selectPlatform(parsePlatform('linux/arm/v7'), cands)).toBe(2);
    expect(selectPlatform(parsePlatform('linux/arm/v6'), cands)).toBe(1);
    expect(selectPlatform(parsePlatform('linux/s390x'), cands)).toBe(-1);
  });
});
