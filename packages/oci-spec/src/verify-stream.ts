import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { type Digest, digestAlgorithm, parseDigest } from './digest.js';
import { SpecError } from './errors.js';

export interface ExpectedContent {
  readonly digest: Digest;
  readonly size?: number;
}

/**
 * A pass-through stream that checks size and digest (sha256 or sha512) of the bytes flowing through it and fails
 * before end-of-stream (IMG_SIZE_MISMATCH / IMG_DIGEST_MISMATCH) when they differ from `expected`,
 * so a consumer never commits unverified content. `where` names the blob in the error.
 */
export function createVerifyStream(expected: ExpectedContent, where: string = expected.digest): Transform {
  const algorithm = digestAlgorithm(parseDigest(expected.digest, where));
  const hash = createHash(algorithm);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (expected.size !== undefined && seen > expected.size) {
        cb(new SpecError('IMG_SIZE_MISMATCH', `${where}: more than the expected ${expected.size} bytes`));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (expected.size !== undefined && seen !== expected.size) {
        cb(new SpecError('IMG_SIZE_MISMATCH', `${where}: expected ${expected.size} bytes, got ${seen}`));
        return;
      }
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (actual !== expected.digest) {
        cb(
          new SpecError(
            'IMG_DIGEST_MISMATCH',
            `${where}: digest mismatch: expected ${expected.digest}, got ${actual}`,
          ),
        );
        return;
      }
      cb();
    },
  });
}
