import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { BlobSource, Descriptor } from '@img/oci-spec';
import type { PushBlob } from './push-blob.js';

/** A PushBlob over bytes in memory (a config). */
export function blobFromBytes(descriptor: Descriptor, bytes: Uint8Array): PushBlob {
  return {
    descriptor,
    open: async () => Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]),
  };
}

/** A PushBlob read from a file on every open (a layer written by `img layer`). */
export function blobFromFile(
  descriptor: Descriptor,
  path: string,
  sources?: readonly BlobSource[],
): PushBlob {
  return {
    descriptor,
    open: async () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
    ...(sources && { sources }),
  };
}

/** A PushBlob known only by where it lives (a pulled base layer): mounted or streamed at push time. */
export function blobFromSources(descriptor: Descriptor, sources: readonly BlobSource[]): PushBlob {
  return { descriptor, sources };
}
