import { createHash } from 'node:crypto';
import { SpecError } from './errors.js';

declare const DigestBrand: unique symbol;
/** A content digest `algorithm:encoded`, e.g. `sha256:9f86d0...`. */
export type Digest = string & { readonly [DigestBrand]: true };

const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
const SHA512_RE = /^sha512:[a-f0-9]{128}$/;

export function isDigest(value: unknown): value is Digest {
  if (typeof value !== 'string' || !DIGEST_RE.test(value)) return false;
  if (value.startsWith('sha256:')) return SHA256_RE.test(value);
  if (value.startsWith('sha512:')) return SHA512_RE.test(value);
  return true;
}

/** Parse and check a digest string; `where` names the field or file for the error message. */
export function parseDigest(value: unknown, where = 'digest'): Digest {
  if (!isDigest(value)) {
    throw new SpecError('IMG_INVALID_DIGEST', `${where}: invalid digest ${JSON.stringify(value)}`);
  }
  return value;
}

export function digestAlgorithm(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
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

/** Throws IMG_DIGEST_MISMATCH unless `data` hashes to `expected`. */
export function verifyBytes(data: Uint8Array, expected: Digest, where: string = 'content'): void {
  if (digestAlgorithm(expected) !== 'sha256') {
    throw new SpecError('IMG_INVALID_DIGEST', `${where}: unsupported digest algorithm in ${expected}`);
  }
  const actual = sha256Digest(data);
  if (actual !== expected) {
    throw new SpecError(
      'IMG_DIGEST_MISMATCH',
      `${where}: digest mismatch: expected ${expected}, got ${actual}`,
    );
  }
}
