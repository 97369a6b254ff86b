import { type Digest, sha256FromHex } from '@img/oci-spec';
import { RemoteCacheError } from './errors.js';

/** A blob named by a `bytestream://` URI (what Bazel's Build Event Protocol reports for remote outputs). */
export interface BytestreamBlob {
  /** `HOST:PORT` of the cache that holds the blob. */
  readonly authority: string;
  /** The REAPI instance name ('' for the default instance). */
  readonly instanceName: string;
  readonly digest: Digest;
  readonly size: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const SIZE = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Parse `bytestream://HOST:PORT/[INSTANCE/]blobs/<sha256>/<size>`. The instance name may itself
 * contain slashes; digest functions other than sha256 (`blobs/blake3/...`) are refused.
 */
export function parseBytestreamUri(uri: string): BytestreamBlob {
  const invalid = (why: string): never => {
    throw new RemoteCacheError(
      'IMG_REMOTE_CACHE_INVALID_URI',
      `bytestream URI ${JSON.stringify(uri)}: ${why}`,
    );
  };
  const match = /^bytestream:\/\/([^/?#]+)\/([^?#]*)$/.exec(uri);
  if (match === null) return invalid('not of the form bytestream://HOST:PORT/[INSTANCE/]blobs/HASH/SIZE');
  const [, authority, path] = match as unknown as [string, string, string];
  if (authority.includes('@')) invalid('credentials in the URI are not allowed');
  const segments = path.split('/');
  const at = segments.lastIndexOf('blobs');
  if (at < 0) invalid('no blobs/ segment');
  const rest = segments.slice(at + 1);
  if (rest.length === 3) invalid(`digest function ${rest[0]} is not supported (only sha256)`);
  if (rest.length !== 2) invalid('expected blobs/HASH/SIZE');
  const [hash, sizeText] = rest as [string, string];
  if (!HEX64.test(hash)) invalid(`${JSON.stringify(hash)} is not a lower-case sha256 hash`);
  if (!SIZE.test(sizeText) || !Number.isSafeInteger(Number(sizeText)))
    invalid(`${JSON.stringify(sizeText)} is not a size`);
  const instance = segments.slice(0, at);
  if (instance.some((s) => s === '' || s === '.' || s === '..'))
    invalid('empty, . or .. segment in the instance name');
  return { authority, instanceName: instance.join('/'), digest: sha256FromHex(hash), size: Number(sizeText) };
}

/** The `bytestream://` URI of a blob, as Bazel writes it (the inverse of parseBytestreamUri). */
export function formatBytestreamUri(blob: BytestreamBlob): string {
  const instance = blob.instanceName === '' ? '' : `${blob.instanceName}/`;
  return `bytestream://${blob.authority}/${instance}blobs/${blob.digest.slice('sha256:'.length)}/${blob.size}`;
}
