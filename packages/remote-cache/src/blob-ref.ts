import { type Digest, digestAlgorithm, digestHex, SpecError, sha256Digest } from '@img/oci-spec';
import { RemoteCacheError } from './errors.js';

/** A blob as the cache knows it: its sha256 digest and its size. A Descriptor is one. */
export interface BlobRef {
  readonly digest: Digest;
  readonly size: number;
}

/** REAPI's Digest message. */
export interface ReapiDigest {
  readonly hash: string;
  readonly size_bytes: number;
}

/** The REAPI digest of a blob; refuses digests other than sha256 and sizes that are not byte counts. */
export function toReapiDigest(blob: BlobRef): ReapiDigest {
  if (digestAlgorithm(blob.digest) !== 'sha256' || !/^[0-9a-f]{64}$/.test(digestHex(blob.digest))) {
    throw new RemoteCacheError(
      'IMG_INVALID_OPTIONS',
      `${blob.digest}: the remote cache holds only sha256 blobs`,
    );
  }
  if (!Number.isSafeInteger(blob.size) || blob.size < 0) {
    throw new RemoteCacheError(
      'IMG_INVALID_OPTIONS',
      `${blob.digest}: size ${blob.size} is not a byte count`,
    );
  }
  return { hash: digestHex(blob.digest), size_bytes: blob.size };
}

/** `[INSTANCE/]blobs/HASH/SIZE`, ByteStream's name of a blob to read. */
export function readResourceName(instanceName: string, blob: BlobRef): string {
  const d = toReapiDigest(blob);
  return `${instancePrefix(instanceName)}blobs/${d.hash}/${d.size_bytes}`;
}

/** `[INSTANCE/]uploads/UUID/blobs/HASH/SIZE`, ByteStream's name of an upload. */
export function writeResourceName(instanceName: string, uuid: string, blob: BlobRef): string {
  const d = toReapiDigest(blob);
  return `${instancePrefix(instanceName)}uploads/${uuid}/blobs/${d.hash}/${d.size_bytes}`;
}

function instancePrefix(instanceName: string): string {
  return instanceName === '' ? '' : `${instanceName}/`;
}

/** Throws IMG_SIZE_MISMATCH / IMG_DIGEST_MISMATCH unless `data` is exactly the blob. */
export function verifyBlobBytes(data: Uint8Array, blob: BlobRef, where: string): void {
  if (data.length !== blob.size) {
    throw new SpecError('IMG_SIZE_MISMATCH', `${where}: expected ${blob.size} bytes, got ${data.length}`);
  }
  const actual = sha256Digest(data);
  if (actual !== blob.digest) {
    throw new SpecError(
      'IMG_DIGEST_MISMATCH',
      `${where}: digest mismatch: expected ${blob.digest}, got ${actual}`,
    );
  }
}
