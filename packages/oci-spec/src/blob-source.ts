import { Readable, Transform, type TransformCallback } from 'node:stream';
import { SpecError } from './errors.js';
import type { AbortOptions } from './options.js';
import type { Descriptor } from './types.js';

export interface OpenBlobOptions extends AbortOptions {
  /** Start at this byte (a resumed write). Default 0. */
  readonly offset?: number;
}

/**
 * A reopenable blob: every `open()` returns a fresh stream of exactly `descriptor.size` bytes (from
 * `offset`). Every place bytes live is one: a local file, a layout member, memory, a registry.
 */
export interface BlobSource {
  readonly descriptor: Descriptor;
  /** A local regular file holding exactly these bytes, when there is one (lets writers link, not copy). */
  readonly path?: string;
  open(options?: OpenBlobOptions): Promise<Readable>;
}

export type { BlobLocation } from './types.js';

/** `source` without its first `count` bytes, for sources that cannot seek. */
export function skipBytes(source: Readable, count: number): Readable {
  if (count <= 0) return source;
  let left = count;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (left >= chunk.length) {
        left -= chunk.length;
        cb();
        return;
      }
      const rest = left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
      cb(null, rest);
    },
  });
  source.on('error', (e) => out.destroy(e));
  out.on('close', () => source.destroy());
  return source.pipe(out);
}

/** A blob held in memory (a document, a config). */
export function bytesBlobSource(descriptor: Descriptor, bytes: Uint8Array): BlobSource {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    descriptor,
    open: async (options) => Readable.from([buffer.subarray(options?.offset ?? 0)]),
  };
}

/**
 * The one "first source that works" resolver: a source that opens the first of `candidates` whose
 * open() succeeds, in order (a local file, a layout, a registry...). An abort stops the search; when
 * every candidate fails, the last error is thrown.
 */
export function firstAvailableSource(descriptor: Descriptor, candidates: readonly BlobSource[]): BlobSource {
  if (candidates.length === 1) return candidates[0]!;
  return {
    descriptor,
    ...(candidates[0]?.path !== undefined ? { path: candidates[0].path } : {}),
    async open(options) {
      let last: unknown = new SpecError(
        'IMG_BLOB_UNAVAILABLE',
        `blob ${descriptor.digest}: not available locally and no location is known`,
      );
      for (const candidate of candidates) {
        try {
          return await candidate.open(options);
        } catch (err) {
          if (options?.signal?.aborted) throw err;
          last = err;
        }
      }
      throw last;
    },
  };
}
