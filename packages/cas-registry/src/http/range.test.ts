import { describe, expect, it } from 'vitest';
import { parseRange } from './range.js';

describe('parseRange', () => {
  it('reads first-last, first- and -suffix ranges, clamped to the blob', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ offset: 0, length: 10 });
    expect(parseRange('bytes=90-200', 100)).toEqual({ offset: 90, length: 10 });
    expect(parseRange('bytes=95-', 100)).toEqual({ offset: 95, length: 5 });
    expect(parseRange('bytes=-10', 100)).toEqual({ offset: 90, length: 10 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ offset: 0, length: 100 });
  });

  it('serves the whole blob for no header, other units and several ranges', () => {
    for (const h of [undefined, 'items=0-1', 'bytes=0-1,5-6', 'bytes=-', 'bytes=a-b']) {
      expect(parseRange(h, 100), String(h)).toBeUndefined();
    }
  });

  it('is a 416 with Content-Range bytes */size when it cannot be satisfied', () => {
    for (const h of ['bytes=100-', 'bytes=500-0', 'bytes=-0', 'bytes=200-300']) {
      expect(() => parseRange(h, 100), h).toThrow(
        expect.objectContaining({ status: 416, headers: { 'Content-Range': 'bytes */100' } }),
      );
    }
    expect(() => parseRange('bytes=-5', 0)).toThrow(expect.objectContaining({ status: 416 }));
  });
});
