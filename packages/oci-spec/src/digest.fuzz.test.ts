// Property tests for digest parsing: whatever the input, parseDigest either returns a digest that is
// safe as a path segment and a URL part, or throws SpecError IMG_INVALID_DIGEST.
import { posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// A relative import, not @img/test-utils: that package depends on this one.
import { fuzzParameters, fuzzTimeout } from '../../../test/fuzz.js';
import { digestAlgorithm, digestHex, parseDigest, sha256Digest } from './digest.js';
import { SpecError } from './errors.js';

const HEX = '0123456789abcdef';
const hex = (n: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: n, maxLength: n });
const validSha256 = hex(64).map((h) => `sha256:${h}`);
const validSha512 = hex(128).map((h) => `sha512:${h}`);

/** Strings near valid digests: one character inserted, deleted or replaced, cases changed, padded. */
const mutated = fc
  .tuple(
    fc.oneof(validSha256, validSha512),
    fc.nat(),
    fc.oneof(
      fc.constantFrom('/', '\\', '.', '..', ':', '\0', '%2e', ' ', '\n', 'A', 'é', '/../'),
      fc.string({ maxLength: 3 }),
    ),
    fc.constantFrom('insert', 'delete', 'replace', 'upper', 'prefix'),
  )
  .map(([d, at, s, op]) => {
    const i = at % (d.length + 1);
    switch (op) {
      case 'insert':
        return d.slice(0, i) + s + d.slice(i);
      case 'delete':
        return d.slice(0, i) + d.slice(i + 1);
      case 'replace':
        return d.slice(0, i) + s + d.slice(i + s.length);
      case 'upper':
        return d.toUpperCase();
      default:
        return s + d;
    }
  });

function check(value: unknown): void {
  let digest: string;
  try {
    digest = parseDigest(value, 'field');
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).code).toBe('IMG_INVALID_DIGEST');
    expect((err as SpecError).message.startsWith('field: ')).toBe(true);
    return;
  }
  // Accepted: usable as blobs/<algorithm>/<encoded> and in /v2/<name>/blobs/<digest>.
  const algorithm = digestAlgorithm(digest as never);
  const encoded = digestHex(digest as never);
  for (const part of [algorithm, encoded]) {
    expect(part).toMatch(/^[A-Za-z0-9=_+.-]+$/);
    expect(part === '.' || part === '..').toBe(false);
    expect(part).not.toMatch(/[/?#%\\\s]/);
  }
  expect(posix.join('blobs', algorithm, encoded).startsWith('blobs/')).toBe(true);
  expect(posix.normalize(posix.join('blobs', algorithm, encoded))).toBe(`blobs/${algorithm}/${encoded}`);
  if (algorithm === 'sha256') expect(encoded).toMatch(/^[0-9a-f]{64}$/);
  if (algorithm === 'sha512') expect(encoded).toMatch(/^[0-9a-f]{128}$/);
  expect(parseDigest(digest)).toBe(digest);
}

describe('parseDigest (property)', () => {
  it(
    'anything at all: a safe digest or IMG_INVALID_DIGEST, nothing else',
    () => {
      fc.assert(fc.property(fc.oneof(fc.anything(), fc.string(), mutated), check), fuzzParameters(2000));
    },
    fuzzTimeout(),
  );

  it(
    'every sha256 of bytes round-trips; uppercase and wrong lengths are refused',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 256 }), fc.integer({ min: 1, max: 63 }), (bytes, cut) => {
          const d = sha256Digest(bytes);
          expect(parseDigest(d)).toBe(d);
          expect(() => parseDigest(d.slice(0, 7 + cut))).toThrow(SpecError);
          expect(() => parseDigest(`${d}0`)).toThrow(SpecError);
          if (/[a-f]/.test(d.slice(7))) expect(() => parseDigest(d.toUpperCase())).toThrow(SpecError);
        }),
        fuzzParameters(2000),
      );
    },
    fuzzTimeout(),
  );
});
