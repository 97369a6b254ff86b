import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import type { AbortOptions } from '@img/oci-spec';
import { removeOnExit } from './cleanup.js';
import { outputError } from './errors.js';
import { tempPathBeside } from './temp-path.js';

/** Chunks of a stream are gathered into writes of this size (fewer system calls than one per chunk). */
const WRITE_BATCH_BYTES = 1024 * 1024;

export interface AtomicFileOptions {
  /** File mode of the new file (before the umask). Default 0o666, as for any new file. */
  readonly mode?: number;
}

/** writeFileAtomic's options: aborting stops the write and removes the temp file (`path` is untouched). */
export interface WriteFileAtomicOptions extends AtomicFileOptions, AbortOptions {}

/**
 * A file written under a temp name beside `path` and renamed onto it by `commit()`: readers see the
 * old file or the whole new one, never a part. The temp file is removed by `abort()`, and on exit or
 * SIGINT/SIGTERM while the file is open. Failed system calls become one-line `OutputError`s that
 * name `path` (not the temp name).
 */
export class AtomicFile {
  readonly path: string;
  readonly tempPath: string;
  readonly #handle: FileHandle;
  readonly #forget: () => void;
  #closed = false;

  private constructor(path: string, tempPath: string, handle: FileHandle, forget: () => void) {
    this.path = path;
    this.tempPath = tempPath;
    this.#handle = handle;
    this.#forget = forget;
  }

  static async open(path: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
    const temp = tempPathBeside(path);
    const forget = removeOnExit(temp);
    try {
      return new AtomicFile(path, temp, await open(temp, 'wx', options.mode), forget);
    } catch (err) {
      forget();
      throw outputError(err, path);
    }
  }

  /** Append all of `data`. */
  async write(data: Uint8Array): Promise<void> {
    try {
      for (let off = 0; off < data.length; ) {
        off += (await this.#handle.write(data, off, data.length - off)).bytesWritten;
      }
    } catch (err) {
      throw outputError(err, this.path);
    }
  }

  /**
   * Append everything `source` yields, gathered into writes of up to 1 MiB (one `writev` for many
   * small chunks). Errors of `source` are passed on as they are; errors of the file name `path`.
   */
  async writeStream(source: AsyncIterable<Uint8Array>): Promise<void> {
    let batch: Uint8Array[] = [];
    let bytes = 0;
    for await (const chunk of source) {
      batch.push(chunk);
      bytes += chunk.length;
      if (bytes >= WRITE_BATCH_BYTES) {
        await this.#writeBatch(batch, bytes);
        batch = [];
        bytes = 0;
      }
    }
    if (batch.length > 0) await this.#writeBatch(batch, bytes);
  }

  async #writeBatch(chunks: Uint8Array[], bytes: number): Promise<void> {
    if (chunks.length === 1) return await this.write(chunks[0]!);
    let written: number;
    try {
      written = (await this.#handle.writev(chunks)).bytesWritten;
    } catch (err) {
      throw outputError(err, this.path);
    }
    if (written < bytes) await this.write(Buffer.concat(chunks).subarray(written));
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }

  /** Close the file and rename it onto `path`; on failure the temp file is removed. */
  async commit(): Promise<void> {
    try {
      await this.#close();
      await rename(this.tempPath, this.path);
    } catch (err) {
      await this.abort();
      throw outputError(err, this.path);
    }
    this.#forget();
  }

  /** Close and remove the temp file; `path` is left as it was. Safe to call more than once. */
  async abort(): Promise<void> {
    await this.#close().catch(() => {});
    await rm(this.tempPath, { force: true });
    this.#forget();
  }
}

/** Bytes, text, or a stream of chunks (a Readable) to write. */
export type AtomicFileData = string | Uint8Array | AsyncIterable<Uint8Array>;

/**
 * Write `data` to `path` through an AtomicFile: nothing at `path` changes unless all of it was
 * written. A stream that fails leaves `path` as it was; a stream is destroyed if the file cannot
 * even be created.
 */
export async function writeFileAtomic(
  path: string,
  data: AtomicFileData,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const { signal } = options;
  const destroy = (e?: unknown) => (data as { destroy?: (e?: unknown) => void }).destroy?.(e);
  let file: AtomicFile;
  try {
    signal?.throwIfAborted();
    file = await AtomicFile.open(path, options.mode !== undefined ? { mode: options.mode } : {});
  } catch (err) {
    destroy();
    throw err;
  }
  // A stream that stalls must stop too: it is destroyed with the reason.
  const onAbort = () => destroy(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (typeof data === 'string') await file.write(Buffer.from(data));
    else if (data instanceof Uint8Array) await file.write(data);
    else await file.writeStream(data);
    signal?.throwIfAborted();
    await file.commit();
  } catch (err) {
    await file.abort();
    throw signal?.aborted ? signal.reason : err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
