import { closeSync, fstatSync, read, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { LayerError } from './errors.js';
import { openSourceSync, SMALL_FILE_SIZE, sourceChanged, sourceMissing } from './source-io.js';
import {
  BLOCK_SIZE,
  END_OF_ARCHIVE_SIZE,
  encodeTarHeader,
  paddingFor,
  type TarHeader,
} from './tar-header.js';

/** Size of every chunk a TarWriter hands to its sink (the last one may be shorter). */
export const DEFAULT_TAR_CHUNK_SIZE = 1024 * 1024;

/** Receives the archive in chunks; return a promise to apply back-pressure. */
export type ChunkSink = (chunk: Buffer) => void | Promise<void>;
/** Sees every byte of a file's data as it is copied (e.g. to hash it); must not keep the buffer. */
export type DataObserver = (bytes: Buffer) => void;

export interface FileDataOptions {
  /** Sees every byte of the data (e.g. to hash it). */
  readonly observe?: DataObserver;
  /** Read from this already-open file descriptor (not closed) instead of opening `hostPath`. */
  readonly fd?: number;
  /** Offset of the data in `fd`. Default 0. */
  readonly offset?: number;
}

export interface TarWriterOptions {
  /** Default DEFAULT_TAR_CHUNK_SIZE. Chunks are exactly this size except the last one. */
  readonly chunkSize?: number;
  /** Supplies each new chunk buffer (exactly chunkSize bytes), e.g. from a pool. Default: a new buffer. */
  readonly allocate?: () => Buffer;
}

/**
 * Writes a tar archive as a series of fixed-size chunks: headers and data are copied into one large
 * buffer (file data is read straight into it), so downstream hashing and compression see few, big,
 * deterministic writes. Entries are written in the order the caller gives; the caller owns ordering.
 */
export class TarWriter {
  readonly #sink: ChunkSink;
  readonly #chunkSize: number;
  readonly #allocate: () => Buffer;
  #buf: Buffer;
  #fill = 0;
  #position = 0;
  #finished = false;

  constructor(sink: ChunkSink, options: TarWriterOptions = {}) {
    this.#sink = sink;
    this.#chunkSize = options.chunkSize ?? DEFAULT_TAR_CHUNK_SIZE;
    if (!Number.isInteger(this.#chunkSize) || this.#chunkSize < BLOCK_SIZE) {
      throw new LayerError('IMG_LAYER_INVALID_OPTION', `chunkSize: must be an integer >= ${BLOCK_SIZE}`);
    }
    const size = this.#chunkSize;
    this.#allocate = options.allocate ?? (() => Buffer.allocUnsafe(size));
    this.#buf = this.#allocate();
  }

  /** Archive bytes written so far (including bytes still buffered). */
  get position(): number {
    return this.#position;
  }

  /** Write raw bytes (headers, data). */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(this.#chunkSize - this.#fill, bytes.length - off);
      this.#buf.set(bytes.subarray(off, off + n), this.#fill);
      this.#fill += n;
      this.#position += n;
      off += n;
      if (this.#fill === this.#chunkSize) await this.#emit();
    }
  }

  /** Write `n` zero bytes. */
  async writeZeros(n: number): Promise<void> {
    while (n > 0) {
      const k = Math.min(this.#chunkSize - this.#fill, n);
      this.#buf.fill(0, this.#fill, this.#fill + k);
      this.#fill += k;
      this.#position += k;
      n -= k;
      if (this.#fill === this.#chunkSize) await this.#emit();
    }
  }

  /** Write an entry whose data (if any) is in memory. */
  async writeEntry(header: TarHeader, data?: Uint8Array): Promise<void> {
    const size = header.type === 'file' ? (header.size ?? data?.length ?? 0) : 0;
    if ((data?.length ?? 0) !== size) {
      throw new LayerError(
        'IMG_LAYER_INVALID_TAR',
        `${header.name}: data length does not match size ${size}`,
      );
    }
    await this.write(encodeTarHeader({ ...header, size }));
    if (data && size > 0) {
      await this.write(data);
      await this.writeZeros(paddingFor(size));
    }
  }

  /**
   * Write a regular-file entry whose data is read from `hostPath` directly into the output chunks.
   * Fails with IMG_LAYER_SOURCE_CHANGED when the file's size is no longer `header.size`. With
   * `options.fd`/`options.offset`, the data is `header.size` bytes at `offset` of an open file instead.
   */
  async writeFileEntry(header: TarHeader, hostPath: string, options: FileDataOptions = {}): Promise<void> {
    const size = header.size ?? 0;
    await this.write(encodeTarHeader(header));
    if (size === 0) return;
    if (options.fd !== undefined)
      await this.#copyRange(options.fd, hostPath, options.offset ?? 0, size, options.observe);
    else if (size <= SMALL_FILE_SIZE) await this.#copySmallFile(hostPath, size, options.observe);
    else await this.#copyLargeFile(hostPath, size, options.observe);
    await this.writeZeros(paddingFor(size));
  }

  /** Close the archive: two zero blocks, then flush the last (short) chunk. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    await this.writeZeros(END_OF_ARCHIVE_SIZE);
    if (this.#fill > 0) {
      const last = this.#buf.subarray(0, this.#fill);
      this.#fill = 0;
      await this.#sink(last);
    }
  }

  /** The next buffer is taken only after the sink accepted this one, so it can be one the sink freed. */
  async #emit(): Promise<void> {
    const chunk = this.#buf;
    this.#fill = 0;
    await this.#sink(chunk);
    this.#buf = this.#allocate();
  }

  async #copySmallFile(hostPath: string, size: number, observe?: DataObserver): Promise<void> {
    const fd = openSourceSync(hostPath);
    try {
      const actual = fstatSync(fd).size;
      if (actual !== size) sourceChanged(hostPath, size, actual);
      let pos = 0;
      while (pos < size) {
        const want = Math.min(this.#chunkSize - this.#fill, size - pos);
        const got = readSync(fd, this.#buf, this.#fill, want, pos);
        if (got === 0) sourceChanged(hostPath, size);
        observe?.(this.#buf.subarray(this.#fill, this.#fill + got));
        this.#fill += got;
        this.#position += got;
        pos += got;
        if (this.#fill === this.#chunkSize) await this.#emit();
      }
    } finally {
      closeSync(fd);
    }
  }

  async #copyRange(fd: number, hostPath: string, offset: number, size: number, observe?: DataObserver) {
    let pos = 0;
    while (pos < size) {
      const want = Math.min(this.#chunkSize - this.#fill, size - pos);
      const got =
        size <= SMALL_FILE_SIZE
          ? readSync(fd, this.#buf, this.#fill, want, offset + pos)
          : await new Promise<number>((resolve, reject) =>
              read(fd, this.#buf, this.#fill, want, offset + pos, (err, n) =>
                err ? reject(err) : resolve(n),
              ),
            );
      if (got === 0) sourceChanged(hostPath, size);
      observe?.(this.#buf.subarray(this.#fill, this.#fill + got));
      this.#fill += got;
      this.#position += got;
      pos += got;
      if (this.#fill === this.#chunkSize) await this.#emit();
    }
  }

  async #copyLargeFile(hostPath: string, size: number, observe?: DataObserver): Promise<void> {
    const fh = await open(hostPath, 'r').catch((err: unknown) => {
      throw sourceMissing(hostPath, err);
    });
    try {
      const actual = (await fh.stat()).size;
      if (actual !== size) sourceChanged(hostPath, size, actual);
      let pos = 0;
      while (pos < size) {
        const want = Math.min(this.#chunkSize - this.#fill, size - pos);
        const { bytesRead } = await fh.read(this.#buf, this.#fill, want, pos);
        if (bytesRead === 0) sourceChanged(hostPath, size);
        observe?.(this.#buf.subarray(this.#fill, this.#fill + bytesRead));
        this.#fill += bytesRead;
        this.#position += bytesRead;
        pos += bytesRead;
        if (this.#fill === this.#chunkSize) await this.#emit();
      }
    } finally {
      await fh.close();
    }
  }
}
