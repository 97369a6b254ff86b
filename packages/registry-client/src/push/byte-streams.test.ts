import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { ByteSlicer, countBytes, skipBytes } from './byte-streams.js';

const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
const chunked = () => Readable.from([data.subarray(0, 7), data.subarray(7, 500), data.subarray(500)]);

describe('byte streams', () => {
  it('skips a prefix across chunk boundaries', async () => {
    expect((await buffer(chunked().pipe(skipBytes(300)))).equals(data.subarray(300))).toBe(true);
    expect((await buffer(chunked().pipe(skipBytes(0)))).equals(data)).toBe(true);
  });

  it('counts bytes', async () => {
    let n = 0;
    await buffer(chunked().pipe(countBytes((b) => (n += b))));
    expect(n).toBe(1000);
  });

  it('slices one stream into exact consecutive pieces', async () => {
    const slicer = new ByteSlicer(chunked());
    const parts = [];
    for (const len of [3, 300, 600, 97]) parts.push(await buffer(slicer.slice(len)));
    await slicer.finish();
    expect(parts.map((p) => p.length)).toEqual([3, 300, 600, 97]);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('fails a slice when the source is short, and finish() when it is long', async () => {
    const short = new ByteSlicer(chunked());
    await expect(buffer(short.slice(2000))).rejects.toThrow(/ended 1000 bytes before/);
    const long = new ByteSlicer(chunked());
    await buffer(long.slice(999));
    await expect(long.finish()).rejects.toThrow(/longer/);
  });
});
