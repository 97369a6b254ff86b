import { describe, expect, it } from 'vitest';
import { Crc64Iso } from './crc64.js';

// Expected values printed by Go's hash/crc64 with crc64.MakeTable(crc64.ISO), Sum(nil).
describe('Crc64Iso', () => {
  it('matches Go for short inputs', () => {
    const cases: Array<[string, string]> = [
      ['', '0000000000000000'],
      ['a', '3420000000000000'],
      ['hello world', 'b9cf3f572ad9ac3e'],
      ['The quick brown fox jumps over the lazy dog', '4ef14e19f4c6e28e'],
    ];
    for (const [input, hex] of cases) {
      expect(new Crc64Iso().update(Buffer.from(input)).digest().toString('hex'), input).toBe(hex);
    }
  });

  it('matches Go on 100003 pseudo-random bytes, in one update or several', () => {
    const data = Buffer.alloc(100_003);
    let x = 7;
    for (let i = 0; i < data.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      data[i] = x >>> 24;
    }
    expect(new Crc64Iso().update(data).digest().toString('hex')).toBe('4be9ddbc97544c67');
    const split = new Crc64Iso().update(data.subarray(0, 5)).update(data.subarray(5, 77_777));
    expect(split.update(data.subarray(77_777)).digest().toString('hex')).toBe('4be9ddbc97544c67');
  });
});
