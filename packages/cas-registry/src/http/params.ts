import type { IncomingMessage } from 'node:http';
import { type BlobDigest, parseBlobDigest } from '../digests.js';
import { isRepositoryName } from '../names.js';
import { digestInvalid, nameInvalid } from './http-error.js';

export function repositoryParam(name: string): string {
  if (!isRepositoryName(name)) throw nameInvalid(name);
  return name;
}

/** A digest from the path or query; 400 DIGEST_INVALID unless it is a sha256/sha512 digest. */
export function digestParam(value: string | null | undefined, what = 'digest'): BlobDigest {
  const digest = value ? parseBlobDigest(value) : undefined;
  if (!digest) {
    throw digestInvalid(`${what} ${JSON.stringify(value ?? '')} is not a sha256 or sha512 digest`);
  }
  return digest;
}

/** True when the request carries a body (a length above zero, or chunked transfer encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
