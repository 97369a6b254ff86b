import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { LayerError } from '@img/layer-writer';
import { createDecompressionLimit, createDecompressor } from '@img/layer-writer/internal';
import type { Digest } from '@img/oci-spec';
import type { EstargzFormat } from './codec.js';
import { EstargzError } from './errors.js';
import { locateToc, openBlob } from './locate-toc.js';
import { asEstargzLimit, type EstargzReadOptions } from './read-options.js';
import { cleanEntryName, parseToc, type Toc } from './toc.js';
import { type EstargzChunk, type EstargzEntry, indexToc } from './toc-index.js';

/** Files verified at once by `verify`. */
const VERIFY_CONCURRENCY = 4;
/**
 * Chunks up to this size are read whole and checked before any of their bytes is handed out; larger
 * ones (a hostile TOC may claim any size) are streamed and checked when they end.
 */
const VERIFIED_CHUNK_SIZE = 16 * 1024 * 1024;

export interface VerifyReport {
  readonly tocDigest: Digest;
  /** TOC entries other than chunks. */
  readonly entries: number;
  /** Regular files with data whose bytes were checked. */
  readonly files: number;
  readonly chunks: number;
  /** Uncompressed payload bytes checked. */
  readonly bytes: number;
}

/**
 * Random access to an eStargz (or zstd:chunked) blob on disk: the TOC from the footer, single files
 * read by seeking to their members, and full verification against a TOC digest.
 */
export class EstargzReader {
  readonly path: string;
  readonly format: EstargzFormat;
  readonly blobSize: number;
  readonly tocOffset: number;
  /** sha256 of the TOC JSON as stored; compare with the layer's toc.digest annotation. */
  readonly tocDigest: Digest;
  readonly toc: Toc;
  readonly #entries: EstargzEntry[];
  readonly #byName: Map<string, EstargzEntry>;
  readonly #dataEnd: number;
  readonly #options: EstargzReadOptions;

  private constructor(
    path: string,
    located: Awaited<ReturnType<typeof locateToc>>,
    toc: Toc,
    options: EstargzReadOptions,
  ) {
    this.path = path;
    this.#options = options;
    this.format = located.format;
    this.blobSize = located.blobSize;
    this.tocOffset = located.tocOffset;
    this.tocDigest = located.tocDigest;
    this.toc = toc;
    this.#dataEnd = located.dataEnd;
    const { entries, byName } = indexToc(toc, located.dataEnd);
    this.#entries = entries;
    this.#byName = byName;
  }

  /**
   * Read the footer and TOC of the blob at `path` (no payload is read). The blob must be a regular
   * file; the TOC and every decompression are capped by `options`.
   */
  static async open(path: string, options: EstargzReadOptions = {}): Promise<EstargzReader> {
    const fh = await openBlob(path);
    try {
      const located = await locateToc(fh, path, options);
      return new EstargzReader(path, located, parseToc(located.tocJson, path), options);
    } finally {
      await fh.close();
    }
  }

  /** Every entry except chunks, in TOC order (the blob's order). */
  entries(): readonly EstargzEntry[] {
    return this.#entries;
  }

  /** The entry for a path ('/a/b', 'a/b' and './a/b/' are the same), following hardlinks. */
  lookup(name: string, followHardlinks = true): EstargzEntry | undefined {
    let entry = this.#byName.get(cleanEntryName(name));
    for (let hops = 0; followHardlinks && entry?.type === 'hardlink' && hops < 64; hops++) {
      entry = this.#byName.get(cleanEntryName(entry.linkName ?? ''));
    }
    return entry;
  }

  /** Throws IMG_ESTARGZ_TOC_DIGEST_MISMATCH unless the TOC's digest is `expected`. */
  verifyTocDigest(expected: string): void {
    if (this.tocDigest !== expected) {
      throw new EstargzError(
        'IMG_ESTARGZ_TOC_DIGEST_MISMATCH',
        `${this.path}: TOC digest is ${this.tocDigest}, expected ${expected}`,
      );
    }
  }

  /**
   * Verify the blob: the TOC digest against `expectedTocDigest` (the toc.digest annotation), the TOC's
   * structure (chunk digests present, offsets inside the payload area, chunks covering each file,
   * hardlink targets present), then every chunk's bytes against its chunkDigest and every file against
   * its digest, reading each chunk from its own offset.
   */
  async verify(expectedTocDigest: string): Promise<VerifyReport> {
    this.verifyTocDigest(expectedTocDigest);
    const files = this.#checkStructure();
    let chunks = 0;
    let bytes = 0;
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const entry = files[next++]!;
        for await (const data of this.#chunkData(entry)) bytes += data.length;
        chunks += entry.chunks.length;
      }
    };
    await Promise.all(Array.from({ length: VERIFY_CONCURRENCY }, worker));
    return { tocDigest: this.tocDigest, entries: this.#entries.length, files: files.length, chunks, bytes };
  }

  /** A file's content, read chunk by chunk from its offsets and checked against the TOC digests. */
  openFile(name: string): Readable {
    return Readable.from(this.#chunkData(this.#regular(name)));
  }

  async readFile(name: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of this.#chunkData(this.#regular(name))) parts.push(part);
    return Buffer.concat(parts);
  }

  #regular(name: string): EstargzEntry {
    const entry = this.lookup(name);
    if (entry === undefined) {
      throw new EstargzError(
        'IMG_ESTARGZ_NOT_FOUND',
        `${this.path}: no entry ${JSON.stringify(name)} in the TOC`,
      );
    }
    if (entry.type !== 'reg') {
      throw new EstargzError(
        'IMG_ESTARGZ_NOT_A_FILE',
        `${this.path}: ${JSON.stringify(name)} is a ${entry.type}, not a regular file`,
      );
    }
    return entry;
  }

  /** Regular files with data; throws IMG_ESTARGZ_INVALID_TOC on the first structural problem. */
  #checkStructure(): EstargzEntry[] {
    const invalid = (message: string) =>
      new EstargzError('IMG_ESTARGZ_INVALID_TOC', `${this.path}: invalid TOC: ${message}`);
    const files = this.#entries.filter((e) => e.type === 'reg' && e.size > 0);
    const hasChunkEntries = this.toc.entries.some((e) => e.type === 'chunk');
    const seen = new Set<string>();
    for (const entry of this.#entries) {
      if (entry.type === 'hardlink' && this.lookup(entry.name)?.type === undefined) {
        throw invalid(
          `${JSON.stringify(entry.name)} is a hardlink to ${JSON.stringify(entry.linkName)}, which is not in the TOC`,
        );
      }
    }
    for (const file of files) {
      let expected = 0;
      for (const c of file.chunks) {
        const what = `${JSON.stringify(file.name)} chunk at ${c.chunkOffset}`;
        if (c.chunkDigest === undefined && (hasChunkEntries || file.digest === undefined))
          throw invalid(`${what} has no chunkDigest`);
        if (c.chunkOffset !== expected || c.chunkSize <= 0)
          throw invalid(`${what}: chunks do not cover the file contiguously`);
        if (c.offset >= this.#dataEnd)
          throw invalid(`${what}: offset ${c.offset} is outside the payload area`);
        const key = `${c.offset}:${c.innerOffset}`;
        if (seen.has(key))
          throw invalid(`${what}: offset ${c.offset} (inner ${c.innerOffset}) is used twice`);
        seen.add(key);
        expected += c.chunkSize;
      }
      if (expected !== file.size)
        throw invalid(`${JSON.stringify(file.name)}: chunks cover ${expected} of ${file.size} bytes`);
    }
    return files;
  }

  /**
   * A file's bytes: each chunk up to VERIFIED_CHUNK_SIZE as one Buffer checked against its digest
   * before it is yielded; a larger chunk in bounded pieces, checked when it ends (a consumer then sees
   * its bytes before the error). The file's digest is checked when the file ends.
   */
  async *#chunkData(entry: EstargzEntry): AsyncGenerator<Buffer> {
    const whole = createHash('sha256');
    for (const chunk of entry.chunks) {
      const expected = chunk.chunkDigest ?? (entry.chunks.length === 1 ? entry.digest : undefined);
      const hash = createHash('sha256');
      const held: Buffer[] | undefined = chunk.chunkSize <= VERIFIED_CHUNK_SIZE ? [] : undefined;
      for await (const data of this.#readChunk(entry, chunk)) {
        hash.update(data);
        whole.update(data);
        if (held) held.push(data);
        else yield data;
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (expected !== undefined && actual !== expected) {
        throw new EstargzError(
          'IMG_ESTARGZ_CHUNK_DIGEST_MISMATCH',
          `${this.path}: ${JSON.stringify(entry.name)} bytes ${chunk.chunkOffset}-${chunk.chunkOffset + chunk.chunkSize} (member at ${chunk.offset}) have digest ${actual}, the TOC says ${expected}`,
        );
      }
      if (held && held.length > 0) yield held.length === 1 ? held[0]! : Buffer.concat(held);
    }
    const actual = `sha256:${whole.digest('hex')}`;
    if (entry.digest !== undefined && actual !== entry.digest) {
      throw new EstargzError(
        'IMG_ESTARGZ_FILE_DIGEST_MISMATCH',
        `${this.path}: ${JSON.stringify(entry.name)} has digest ${actual}, the TOC says ${entry.digest}`,
      );
    }
  }

  /**
   * Decompress from the chunk's member up to the end of the chunk, yielding its bytes as they come;
   * nothing before `offset` is read, and the member's output is capped like any decompression.
   */
  async *#readChunk(entry: EstargzEntry, chunk: EstargzChunk): AsyncGenerator<Buffer> {
    const where = `${this.path}: ${JSON.stringify(entry.name)} chunk at ${chunk.chunkOffset} (member at ${chunk.offset})`;
    if (chunk.compressedEnd <= chunk.offset) {
      throw new EstargzError(
        'IMG_ESTARGZ_INVALID_TOC',
        `${where}: no compressed bytes before the next member`,
      );
    }
    const fh = await openBlob(this.path);
    const source = fh.createReadStream({ start: chunk.offset, end: chunk.compressedEnd - 1 });
    const options = { ...this.#options, where };
    const inflater = createDecompressor(this.format === 'estargz' ? 'gzip' : 'zstd', options);
    const limit = createDecompressionLimit({
      ...options,
      compressedSize: chunk.compressedEnd - chunk.offset,
    });
    source.on('error', (err) => inflater.destroy(err));
    inflater.on('error', (err) => limit.destroy(err));
    source.pipe(inflater).pipe(limit);
    let skip = chunk.innerOffset;
    let left = chunk.chunkSize;
    try {
      for await (const part of limit) {
        let bytes = part as Buffer;
        if (skip >= bytes.length) {
          skip -= bytes.length;
          continue;
        }
        bytes = bytes.subarray(skip, skip + left);
        skip = 0;
        left -= bytes.length;
        yield bytes;
        if (left === 0) break;
      }
    } catch (err) {
      if (err instanceof LayerError && err.code === 'IMG_LAYER_LIMIT_EXCEEDED') throw asEstargzLimit(err);
      throw new EstargzError(
        'IMG_ESTARGZ_CORRUPT_DATA',
        `${where}: corrupt compressed data (${(err as Error).message})`,
        { cause: err },
      );
    } finally {
      source.destroy();
      inflater.destroy();
      limit.destroy();
    }
    if (left > 0) {
      throw new EstargzError(
        'IMG_ESTARGZ_CORRUPT_DATA',
        `${where}: data ends after ${chunk.chunkSize - left} of ${chunk.chunkSize} bytes`,
      );
    }
  }
}

/** Open an eStargz or zstd:chunked blob: reads the footer and the TOC (capped by `options`). */
export function openEstargz(path: string, options: EstargzReadOptions = {}): Promise<EstargzReader> {
  return EstargzReader.open(path, options);
}
