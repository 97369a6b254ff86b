import type { Digest } from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import { RegistryError } from '../errors.js';
import { nextPageUrl } from './listing.js';
import { referrersTag } from './referrers.js';

const here = new URL('http://127.0.0.1:5000/v2/app/tags/list?n=2');

describe('nextPageUrl', () => {
  it('follows rel="next" on the same origin, relative or absolute', () => {
    expect(nextPageUrl('</v2/app/tags/list?n=2&last=b>; rel="next"', here, 'x')?.href).toBe(
      'http://127.0.0.1:5000/v2/app/tags/list?n=2&last=b',
    );
    expect(nextPageUrl('<http://127.0.0.1:5000/v2/_catalog?last=z>; rel=next', here, 'x')?.pathname).toBe(
      '/v2/_catalog',
    );
    expect(nextPageUrl(undefined, here, 'x')).toBeUndefined();
    expect(nextPageUrl('</x>; rel="prev"', here, 'x')).toBeUndefined();
  });

  it('refuses a next page on another origin (credentials would follow it)', () => {
    expect(() => nextPageUrl('<http://evil.example/v2/app/tags/list>; rel="next"', here, 'GET tags')).toThrow(
      RegistryError,
    );
  });
});

describe('referrersTag', () => {
  it('is the referrers tag schema tag: algorithm-hex', () => {
    const hex = 'a'.repeat(64);
    expect(referrersTag(`sha256:${hex}` as Digest)).toBe(`sha256-${hex}`);
    expect(() => referrersTag('sha256:../../x' as Digest)).toThrow();
  });
});
