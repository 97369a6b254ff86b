import { Crc64Iso } from './crc64.js';
import { goString } from './toc.js';

/**
 * tar-split's JSON-lines record of a tar stream (github.com/vbatts/tar-split, as containers/storage
 * stores it in zstd:chunked blobs): every byte that is not file data goes into "segment" lines
 * (type 2, base64 payload, padding included); each tar entry is a "file" line (type 1: name, size,
 * and the CRC-64/ISO of its data), so the exact tar can be rebuilt from the files' contents. Feed the
 * stream's bytes in order: `segment` for header and padding bytes, `startFile`/`fileData`/`endFile`
 * around each entry; lines are written as Go's json.Encoder writes `storage.Entry`.
 */
export class TarSplitBuilder {
  // Lines are kept as (one-byte) strings: compact on the heap, joined once at the end.
  readonly #lines: string[] = [];
  #segment: Buffer[] = [];
  #position = 0;
  #file: { name: string; size: number; crc: Crc64Iso } | undefined;
  #bytes = 0;

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

  /** Every line, after the last segment. */
  finish(): Buffer {
    if (this.#file !== undefined) throw new Error(`internal: tar-split ended inside ${this.#file.name}`);
    this.#flushSegment();
    return Buffer.from(this.#lines.join(''), 'utf8');
  }

  #flushSegment(): void {
    if (this.#segment.length === 0) return;
    const data = Buffer.concat(this.#segment);
    this.#segment = [];
    this.#line(`{"type":2,"payload":${goString(data.toString('base64'))},"position":${this.#position++}}`);
  }

  #line(json: string): void {
    const line = `${json}\n`;
    this.#bytes += Buffer.byteLength(line, 'utf8');
    this.#lines.push(line);
  }
}
