import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { estargzFooter, gzipMember, parseGzipFooter } from './gzip-member.js';

describe('gzip members and the footer', () => {
  it('writes the footer byte for byte as the Go writer does', () => {
    // Footer of a blob built by estargz.Build (stargz-snapshotter v0.18.2) with its TOC at 0x4c5378.
    expect(estargzFooter(0x4c5378).toString('hex')).toBe(
      '1f8b08040000000000ff1a00534716003030303030303030303034633533373853544152475a010000ffff0000000000000000',
    );
    expect(gunzipSync(estargzFooter(123)).length).toBe(0);
  });

  it('reads the TOC offset from the eStargz and the legacy stargz footer, and nothing else', () => {
    const footer = estargzFooter(0xabcdef);
    expect(parseGzipFooter(Buffer.concat([Buffer.alloc(13), footer]))).toEqual({
      tocOffset: 0xabcdef,
      footerSize: 51,
    });
    // Legacy: XLEN 22, the subfield directly (no 'SG' + length).
    const legacy = Buffer.alloc(47);
    Buffer.from('1f8b08040000000000ff1600', 'hex').copy(legacy);
    legacy.write('0000000000001234STARGZ', 12, 'latin1');
    Buffer.from('010000ffff', 'hex').copy(legacy, 34);
    expect(parseGzipFooter(legacy)).toEqual({ tocOffset: 0x1234, footerSize: 47 });
    const bad = Buffer.from(footer);
    bad.write('STARGX', 32, 'latin1');
    expect(parseGzipFooter(bad)).toBeUndefined();
    expect(parseGzipFooter(footer.subarray(1))).toBeUndefined();
  });

  it('makes members with a fixed header that any gunzip reads', async () => {
    const data = Buffer.from('hello '.repeat(1000));
    const member = Buffer.concat(await gzipMember([data], 6));
    expect(member.subarray(0, 10).toString('hex')).toBe('1f8b08000000000000ff');
    expect(gunzipSync(member).equals(data)).toBe(true);
    const bang = Buffer.concat(await gzipMember([Buffer.from('!')], 0));
    expect(gunzipSync(Buffer.concat([member, bang])).toString()).toBe(`${data}!`);
    expect(Buffer.concat(await gzipMember([data], 6)).equals(member)).toBe(true);
  });

  it('gives the same bytes however the input is cut into pieces', async () => {
    // Text-like bytes that compress to several 64 KiB output chunks, cut at uneven places.
    const words = ['layer', 'tar', 'gzip', 'digest', 'manifest', 'blob', '\n', 'sha256', ' '];
    let seed = 7;
    const parts: string[] = [];
    for (let i = 0; i < 400_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      parts.push(words[seed % words.length]!, String(seed % 997));
    }
    const data = Buffer.from(parts.join(''));
    const cuts = [0, 1, 5000, 65_536, 65_537, 1_000_000, data.length - 3, data.length];
    const pieces = cuts.slice(1).map((end, i) => data.subarray(cuts[i]!, end));
    for (const level of [0, 1, 6, 9]) {
      const whole = await gzipMember([data], level);
      const cut = await gzipMember(pieces, level);
      expect(Buffer.concat(cut).equals(Buffer.concat(whole)), `level ${level}`).toBe(true);
      expect(gunzipSync(Buffer.concat(cut)).equals(data)).toBe(true);
    }
    // A large member comes back as several buffers, not one copy of them all.
    expect((await gzipMember(pieces, 1)).length).toBeGreaterThan(2);
    // Small members (joined and deflated in one call) too: same bytes as from one buffer.
    const small = data.subarray(0, 200_000);
    const smallPieces = [small.subarray(0, 3), small.subarray(3, 70_000), small.subarray(70_000)];
    for (const level of [0, 1, 6, 9]) {
      const whole = Buffer.concat(await gzipMember([small], level));
      expect(Buffer.concat(await gzipMember(smallPieces, level)).equals(whole), `small, level ${level}`).toBe(
        true,
      );
    }
  });
});
