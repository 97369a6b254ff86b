import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainIds } from './snapshots.js';

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

describe('chainIds', () => {
  it('follows the image spec: ChainID(0) = DiffID(0), ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n))', () => {
    const [a, b, c] = [sha('a'), sha('b'), sha('c')];
    expect(chainIds([a, b, c])).toEqual([a, sha(`${a} ${b}`), sha(`${sha(`${a} ${b}`)} ${c}`)]);
    expect(chainIds([])).toEqual([]);
  });
});
