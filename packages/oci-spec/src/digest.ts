import { createHash } from 'node:crypto';
import { SpecError } from './errors.js';

declare const DigestBrand: unique symbol;
/**
 * A content digest `algorithm:encoded` of a registered algorithm, e.g. `sha256:9f86d0...`: only
 * values that passed `parseDigest` (or came from hashing) carry this type, so a Digest is safe to use
 * as a path component, a URL segment or a map key.
 */
export type Digest = string & { readonly [DigestBrand]: true };

/** The algorithms of the image-spec's registry, with the exact length of their lowercase hex. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** True for `sha256:` + 64 or `sha512:` + 128 lowercase hex digits, and nothing else. */
export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/** Parse and check a digest string; `where` names the field or file for the error message. */
export function parseDigest(value: unknown, where = 'digest'): Digest {
  if (!isDigest(value)) {
    const shown = typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}...` : value;
    throw new SpecError('IMG_INVALID_DIGEST', `${where}: invalid digest ${JSON.stringify(shown)}`);
  }
  return value;
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** sha256 digest of bytes or a string (UTF-8). */
export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** Build a digest from a hex sha256 value. */
export function sha256FromHex(hex: string): Digest {
  return parseDigest(`sha256:${hex}`);
}

/** Throws IMG_DIGEST_MISMATCH unless `data` hashes to `expected` (sha256 or sha512). */
export function verifyBytes(data: Uint8Array, expected: Digest, where: string = 'content'): void {
  const digest = parseDigest(expected, where);
  const algorithm = digestAlgorithm(digest);
  const actual = `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
  if (actual !== digest) {
    throw new SpecError(
      'IMG_DIGEST_MISMATCH',
      `${where}: digest mismatch: expected ${digest}, got ${actual}`,
    );
  }
}
