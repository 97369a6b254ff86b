import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';

/**
 * gzip bytes come from Node's bundled zlib. Official Node.js builds (20, 22, 24: Chromium's zlib)
 * agree byte for byte; a Node linked against the system zlib (some distribution packages) does
 * not, so its gzip layers get other digests. These are the official builds' raw-deflate digests of
 * PROBE at each level; `gzipMatchesReference` compares this process's zlib against them.
 */
const REFERENCE: Readonly<Record<number, string>> = {
  0: 'a0134dd5f628e66f622c3f660d930f08fd90bd2390563428dd718923982fc86c',
  1: '16b5600cf0d8d7a0701ed9aa1b742ed7640c6bc8e2d897bc1ce823e37ee43b0c',
  2: 'abc2257a659f0be9a20819f8f82a27277bc393571ab13c0fb5cf1ac1190feb56',
  3: 'f2ee6df6dc91c6d97b6827cc7d0297eb26893592a8a9f777cfeb62e2c005b2c3',
  4: '170168fc91a6ca756df50cd897d2d58a00081e58f1cfc02c897d19750ecb5dc1',
  5: '1e65580a4012c89d9e47fb444c7ffed4970831076d1d56a7f6db35b3a7ac0052',
  6: '31fc9662599ba194178639ec2d076c7677a7e5227e4544f9060cb599cc1d812f',
  7: '738db8975bb8ff4d006a3718cbc29a019693f75518232efede1f6291fd033510',
  8: '98cca823eb2eaec20c691417464dd28bda72c467f8115a84fe5fee9c378ee47e',
  9: '98cca823eb2eaec20c691417464dd28bda72c467f8115a84fe5fee9c378ee47e',
};

const PROBE_SIZE = 256 * 1024;
const WORDS = [
  'layer',
  'image',
  'tar',
  'gzip',
  'blob',
  'digest',
  'manifest',
  'config',
  'oci',
  'node',
  'zlib',
];

/** 256 KiB of deterministic, text-like bytes (an xorshift stream over a small vocabulary). */
function probe(): Buffer {
  const words = [...WORDS, 'deflate', 'a', 'the', 'of', '0', '1', '\n', '{', '}', '"', '=', ':'];
  const parts: string[] = [];
  let x = 0x9e3779b9;
  let n = 0;
  while (n < PROBE_SIZE) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const w = x % 7 === 0 ? String.fromCharCode(33 + ((x >>> 8) % 90)) : words[(x >>> 4) % words.length]!;
    parts.push(w, ' ');
    n += w.length + 1;
  }
  return Buffer.from(parts.join('')).subarray(0, PROBE_SIZE);
}

const results = new Map<number, boolean>();

/** True when this process's zlib deflates like official Node.js builds at `level` (cached). */
export function gzipMatchesReference(level: number): boolean {
  let ok = results.get(level);
  if (ok === undefined) {
    const digest = createHash('sha256').update(deflateRawSync(probe(), { level })).digest('hex');
    ok = digest === REFERENCE[level];
    results.set(level, ok);
  }
  return ok;
}
