import { describe, expect, it } from 'vitest';
import { gzipMatchesReference } from './gzip-reference.js';

describe('gzipMatchesReference', () => {
  // This machine runs an official Node.js build (the CI image's node); a distro build would fail here.
  it('recognises the zlib of official Node.js builds at every level', () => {
    for (let level = 0; level <= 9; level++) expect(gzipMatchesReference(level)).toBe(true);
  });
});
