import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CasRegistryError } from './errors.js';

/** Digest algorithms the registry verifies content with, and the length of their hex encoding. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

/** A parsed `algorithm:hex` digest of a supported algorithm: safe to use in a path or URL. */
export interface BlobDigest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** `algorithm:hex` */
  readonly value: string;
}

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return Object.hasOwn(DIGEST_ALGORITHMS, value);
}

/** The digest `value` names, or undefined unless it is sha256/sha512 with lowercase hex of the right length. */
export function parseBlobDigest(value: string): BlobDigest | undefined {
  const colon = value.indexOf(':');
  if (colon < 0) return undefined;
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (!isDigestAlgorithm(algorithm)) return undefined;
  if (hex.length !== DIGEST_ALGORITHMS[algorithm] || !/^[a-f0-9]+$/.test(hex)) return undefined;
  return { algorithm, hex, value };
}

export function createDigestHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(algorithm: DigestAlgorithm, data: Uint8Array): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/**
 * A pass-through that checks the digest (and, when given, the size) of the bytes flowing through it and
 * fails before end-of-stream when they differ, so a store never commits unverified content.
 */
export function createDigestVerifier(digest: BlobDigest, size?: number): Transform {
  const hash = createDigestHash(digest.algorithm);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (size !== undefined && seen > size) {
        cb(new CasRegistryError('IMG_CASREG_SIZE_MISMATCH', `${digest.value}: more than ${size} bytes`));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (size !== undefined && seen !== size) {
        cb(
          new CasRegistryError(
            'IMG_CASREG_SIZE_MISMATCH',
            `${digest.value}: expected ${size} bytes, got ${seen}`,
          ),
        );
        return;
      }
      const actual = `${digest.algorithm}:${hash.digest('hex')}`;
      if (actual !== digest.value) {
        cb(
          new CasRegistryError('IMG_CASREG_DIGEST_MISMATCH', `${digest.value}: content hashes to ${actual}`),
        );
        return;
      }
      cb();
    },
  });
}
