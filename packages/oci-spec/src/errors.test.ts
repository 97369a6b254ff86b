import { describe, expect, it } from 'vitest';
import { parseDigest } from './digest.js';
import { ImgError, SpecError } from './errors.js';

describe('ImgError', () => {
  it('carries code, name and cause and is recognised across copies by its brand', () => {
    const cause = new Error('low');
    const e = new SpecError('IMG_INVALID_DIGEST', 'bad', { cause });
    expect(e.code).toBe('IMG_INVALID_DIGEST');
    expect(e.name).toBe('SpecError');
    expect(e.cause).toBe(cause);
    expect(e).toBeInstanceOf(ImgError);
    expect(e).toBeInstanceOf(SpecError);
    const foreign = Object.assign(new Error('x'), { [Symbol.for('img.error')]: true });
    expect(foreign instanceof ImgError).toBe(true);
    expect(new Error('plain') instanceof ImgError).toBe(false);
  });

  it('parseDigest names the field', () => {
    expect(() => parseDigest('sha256:ABC', 'layers[0].digest')).toThrow(
      /layers\[0\]\.digest: invalid digest/,
    );
    expect(parseDigest(`sha256:${'a'.repeat(64)}`)).toMatch(/^sha256:/);
  });
});
