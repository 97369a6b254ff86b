import type { Readable } from 'node:stream';
import { SpecError } from '@img/oci-spec';
import { RemoteCacheError } from '@img/remote-cache';
import { blobNotFound, CasRegistryError } from './errors.js';

/**
 * Resolves once the stream has its first bytes buffered (or has ended empty); rejects with its error.
 * The bytes stay in the stream. Lets a caller learn that the CAS lost a blob before it answers.
 */
export function firstData(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('readable', onReady);
      stream.off('end', onReady);
      stream.off('error', done);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onClose = () => done(new Error('the remote cache stream closed before its first bytes'));
    stream.once('readable', onReady);
    stream.once('end', onReady);
    stream.once('error', done);
    stream.once('close', onClose);
  });
}

/** A failure reading from the CAS, as the registry reports it: a lost blob is BLOB_NOT_FOUND, the rest UNAVAILABLE. */
export function casReadError(err: unknown, what: string): unknown {
  if (err instanceof RemoteCacheError) {
    if (err.code === 'IMG_REMOTE_CACHE_NOT_FOUND') return blobNotFound(what, 'remote cache');
    return new CasRegistryError('IMG_CASREG_UNAVAILABLE', err.message, { cause: err });
  }
  // Wrong bytes from the cache are the cache's fault, not the client's.
  if (err instanceof SpecError) {
    return new CasRegistryError('IMG_CASREG_UNAVAILABLE', `remote cache: ${err.message}`, { cause: err });
  }
  return err;
}

/**
 * A failure writing to the CAS: bytes that do not match the digest or size are the client's
 * (DIGEST_MISMATCH / SIZE_MISMATCH), a failing cache is UNAVAILABLE, anything else (the request body's
 * own errors) passes through.
 */
export function casWriteError(err: unknown, what: string): unknown {
  if (err instanceof SpecError && err.code === 'IMG_DIGEST_MISMATCH') {
    return new CasRegistryError('IMG_CASREG_DIGEST_MISMATCH', err.message, { cause: err });
  }
  if (err instanceof SpecError && err.code === 'IMG_SIZE_MISMATCH') {
    return new CasRegistryError('IMG_CASREG_SIZE_MISMATCH', err.message, { cause: err });
  }
  if (err instanceof RemoteCacheError) {
    return new CasRegistryError('IMG_CASREG_UNAVAILABLE', `writing ${what}: ${err.message}`, { cause: err });
  }
  return err;
}

/**
 * gRPC codes a cache answers a read with when the size asked for is not the blob's: INVALID_ARGUMENT (3),
 * NOT_FOUND (5), OUT_OF_RANGE (11), DATA_LOSS (15; BuildGrid's "Blob incomplete").
 */
const WRONG_SIZE_CODES = new Set([3, 5, 11, 15]);

/** True when a read failed because the CAS holds no blob of that digest *and size*. */
export function isWrongSize(err: unknown): boolean {
  if (err instanceof SpecError) return err.code === 'IMG_SIZE_MISMATCH' || err.code === 'IMG_DIGEST_MISMATCH';
  return err instanceof RemoteCacheError && err.grpcCode !== undefined && WRONG_SIZE_CODES.has(err.grpcCode);
}
