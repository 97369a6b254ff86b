import { Crc64Iso } from './crc64.js';
import { goString } from './toc.js';

/**
 * Uncompressed bytes per zstd frame of the tar-split. Readers decode the frames as one stream
 * (containers/storage: DecodeAll), so this only trades ratio against memory: the bytes of a layer
 * depend on it and never on anything else.
 */
export const TAR_SPLIT_FRAME_SIZE = 1024 * 1024;

/** Compresses one independent zstd frame, as the layer's payload frames are. */
export type FrameCompressor = (bytes: Buffer) => Promise<readonly Buffer[]>;

/** A tar-split as the blob holds it, and its uncompressed size (the footer records both). */
export interface CompressedTarSplit {
  readonly compressed: Buffer;
  readonly size: number;
}

/**
 * tar-split's JSON-lines record of a tar stream (github.com/vbatts/tar-split, as containers/storage
 * stores it in zstd:chunked blobs): every byte that is not file data goes into "segment" lines
 * (type 2, base64 payload, padding included); each tar entry is a "file" line (type 1: name, size,
 * and the CRC-64/ISO of its data), so the exact tar can be rebuilt from the files' contents. Feed the
 * stream's bytes in order: `segment` for header and padding bytes, `startFile`/`fileData`/`endFile`
 * around each entry; lines are written as Go's json.Encoder writes `storage.Entry`.
 */
export class TarSplitBuilder {
  readonly #compressFrame: FrameCompressor;
  // Lines not yet compressed, as (one-byte) strings: compact on the heap, joined once per frame.
  #lines: string[] = [];
  #linesBytes = 0;
  /** Frames compressed or being compressed, in order. */
  readonly #frames: Array<Promise<readonly Buffer[]>> = [];
  #segment: Buffer[] = [];
  #position = 0;
  #file: { name: string; size: number; crc: Crc64Iso } | undefined;
  #bytes = 0;

  /**
   * Lines are compressed by `compressFrame` as they come, TAR_SPLIT_FRAME_SIZE bytes at a time (a
   * layer of 50k files has ~60 MB of tar-split: kept whole, it was the peak of the layer's memory).
   */
  constructor(compressFrame: FrameCompressor) {
    this.#compressFrame = compressFrame;
  }

  /** Uncompressed size of what has been written so far. */
  get size(): number {
    return this.#bytes;
  }

  /** Raw bytes between file data: headers, padding, the archive end. */
  segment(bytes: Buffer): void {
    if (bytes.length > 0) this.#segment.push(Buffer.from(bytes));
  }

  /** A tar entry whose header bytes were just given to `segment`; its data (if any) follows. */
  startFile(name: string, size: number): void {
    this.#flushSegment();
    this.#file = { name, size, crc: new Crc64Iso() };
    if (size === 0) this.endFile();
  }

  fileData(bytes: Uint8Array): void {
    this.#file!.crc.update(bytes);
  }

  endFile(): void {
    const file = this.#file!;
    this.#file = undefined;
    const size = file.size > 0 ? `,"size":${file.size}` : '';
    const payload = file.size > 0 ? goString(file.crc.digest().toString('base64')) : 'null';
    this.#line(
      `{"type":1,"name":${goString(file.name)}${size},"payload":${payload},"position":${this.#position++}}`,
    );
  }

  /** The tar-split after the last segment: its frames, concatenated (one zstd stream). */
  async finish(): Promise<CompressedTarSplit> {
    if (this.#file !== undefined) throw new Error(`internal: tar-split ended inside ${this.#file.name}`);
    this.#flushSegment();
    this.#flushFrame();
    const frames = await Promise.all(this.#frames);
    return { compressed: Buffer.concat(frames.flat()), size: this.#bytes };
  }

  #flushFrame(): void {
    if (this.#lines.length === 0) return;
    const frame = this.#compressFrame(Buffer.from(this.#lines.join(''), 'utf8'));
    // Awaited in finish; until then a failure must not surface as an unhandled rejection.
    frame.catch(() => {});
    this.#frames.push(frame);
    this.#lines = [];
    this.#linesBytes = 0;
  }

  #flushSegment(): void {
    if (this.#segment.length === 0) return;
    const data = Buffer.concat(this.#segment);
    this.#segment = [];
    this.#line(`{"type":2,"payload":${goString(data.toString('base64'))},"position":${this.#position++}}`);
  }

  #line(json: string): void {
    const line = `${json}\n`;
    const bytes = Buffer.byteLength(line, 'utf8');
    this.#bytes += bytes;
    this.#linesBytes += bytes;
    this.#lines.push(line);
    if (this.#linesBytes >= TAR_SPLIT_FRAME_SIZE) this.#flushFrame();
  }
}
