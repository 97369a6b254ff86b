import { createHash, type Hash } from 'node:crypto';
import { DEFAULT_TAR_CHUNK_SIZE, type TarEntryInfo, TarParser } from '@img/layer-writer/internal';
import type { Digest } from '@img/oci-spec';
import { ChunkPool } from './chunk-pool.js';
import type { MemberCodec } from './codec.js';
import { EMPTY_SHA256, NO_PREFETCH_LANDMARK, PREFETCH_LANDMARK } from './constants.js';
import { EstargzError } from './errors.js';
import { type CompressedTarSplit, TarSplitBuilder } from './tar-split.js';
import { cleanEntryName, type TocEntry } from './toc.js';
import { TocEntryFactory } from './toc-entry.js';

/**
 * Byte budget of the members in flight (being compressed or waiting to be written): each costs its
 * input, its output (at most about as large) and a compression context (MEMBER_OVERHEAD; counted even
 * while it waits, so that many tiny members stay bounded too). At least one member is in flight. The
 * output does not depend on it.
 */
const IN_FLIGHT_BYTES = 32 * 1024 * 1024;
/** zlib's deflate state at the default memLevel/windowBits (~256 KiB), rounded up; zstd's is similar at low levels. */
const MEMBER_OVERHEAD = 320 * 1024;
/**
 * Header-only runs (directories, symlinks, hardlinks, empty files) longer than this past the chunk
 * size are cut into further members, so that no member grows without bound.
 */
const MEMBER_SLACK = 1024 * 1024;
/** Tar chunk buffers kept for reuse beyond those in use (see ChunkPool). */
const SPARE_CHUNKS = 4;

export interface AssemblerOptions {
  readonly codec: MemberCodec;
  /** Payload bytes per chunk; larger files are split. */
  readonly chunkSize: number;
  /** A payload shares the current member while that member has fewer uncompressed bytes; 0: never. */
  readonly minChunkSize: number;
  /** Receives the blob bytes in order; its promise applies back-pressure. */
  readonly output: (bytes: Buffer) => Promise<void>;
  /**
   * Members compressed at the same time (compressorJobs); the rest of the in-flight members wait
   * their turn. Default: as many as the threadpool runs.
   */
  readonly compressJobs?: number;
}

export interface AssembledLayer {
  readonly tocDigest: Digest;
  /** sha256 of the whole uncompressed stream (the layer's diff_id). */
  readonly diffId: Digest;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Where a payload chunk starts: a tar position, the TOC entry that describes it, its length. */
interface Cut {
  readonly pos: number;
  readonly length: number;
  readonly entry: TocEntry;
  /** The file's first entry (for chunks after the first: the entry whose endOffset they extend). */
  readonly file: TocEntry;
  /** Total size of the file, on the first chunk of a file. */
  readonly fileSize?: number;
  readonly forceNewMember: boolean;
}

interface HashedRange {
  readonly end: number;
  readonly hash: Hash;
  readonly entry: TocEntry;
  /** The chunk is the whole file: its digest is also the file's. */
  readonly wholeFile?: boolean;
}

/**
 * Turns a plain tar stream (fed with `write`) into an eStargz or zstd:chunked blob (sent to
 * `output`). It parses the tar as it flows, so every payload chunk of a regular file starts a new
 * member; TOC entries, chunk digests and file digests are computed from the same bytes; members are
 * compressed a few at a time in the threadpool and written in order. Call `endEntries` with the tar
 * position where the entries end before the archive-end blocks arrive, then `finish`.
 */
export class EstargzAssembler {
  readonly #codec: MemberCodec;
  readonly #chunkSize: number;
  readonly #minChunkSize: number;
  readonly #output: (bytes: Buffer) => Promise<void>;
  readonly #compressJobs: number;
  #compressing = 0;
  readonly #waitingToCompress: Array<() => void> = [];
  readonly #parser: TarParser;
  readonly #factory = new TocEntryFactory();
  readonly #entries: TocEntry[] = [];
  /** Member index of every data entry, resolved to offsets once the members are written. */
  readonly #memberOf = new Map<TocEntry, number>();
  /** containers/storage: member index where each data entry's payload ends (endOffset). */
  readonly #endMemberOf = new Map<TocEntry, number>();
  /** containers/storage: the tar-split, and the entries it has yet to reach. */
  readonly #tarSplit: TarSplitBuilder | undefined;
  readonly #splitEntries: Array<{ name: string; dataOffset: number; size: number }> = [];
  #splitHead = 0;
  #splitFileEnd = -1;
  /** The current member holds a payload chunk (containers/storage closes it at the payload's end). */
  #inPayload = false;
  readonly #cuts: Cut[] = [];
  #cutHead = 0;
  #pos = 0;
  #limit = Number.POSITIVE_INFINITY;
  #payloadEnd = 0;
  #file: HashedRange | undefined;
  #chunk: HashedRange | undefined;
  /** The next payload after a landmark starts a member too, so the landmark's member holds only it. */
  #afterLandmark = false;
  #member: Buffer[] = [];
  #memberLength = 0;
  #memberIndex = 0;
  readonly #inFlight: Array<{ job: Promise<readonly Buffer[]>; bytes: number }> = [];
  #bytesInFlight = 0;
  readonly #memberOffsets: number[] = [];
  readonly #memberEnds: number[] = [];
  #compressedPos = 0;
  readonly #diff = createHash('sha256');
  #uncompressed = 0;
  readonly #chunks = new ChunkPool(DEFAULT_TAR_CHUNK_SIZE, SPARE_CHUNKS);
  /**
   * Buffers of DEFAULT_TAR_CHUNK_SIZE bytes (the TarWriter default) for the TarWriter feeding `write`:
   * each comes back for reuse once the members holding its bytes are compressed.
   */
  readonly allocateChunk = this.#chunks.allocate;

  constructor(options: AssemblerOptions) {
    this.#codec = options.codec;
    this.#chunkSize = options.chunkSize;
    this.#minChunkSize = options.minChunkSize;
    this.#output = options.output;
    this.#compressJobs = options.compressJobs ?? Number.POSITIVE_INFINITY;
    this.#tarSplit = options.codec.containersStorage
      ? new TarSplitBuilder((bytes) => this.#codec.member([bytes]))
      : undefined;
    this.#parser = new TarParser({ onEntry: (info) => this.#onEntry(info) });
  }

  /** Tar position after the last entry: bytes from here on (the archive end) are not copied. */
  endEntries(position: number): void {
    if (!this.#codec.keepsArchiveEnd) this.#limit = position;
  }

  /** Add `chunk`, the next bytes of the tar stream; the members hold on to pieces of it, not copies. */
  async write(chunk: Buffer): Promise<void> {
    try {
      await this.#place(chunk);
    } finally {
      // The hold allocateChunk gave: the tar writer is done with this chunk.
      this.#chunks.release(chunk);
    }
  }

  async #place(chunk: Buffer): Promise<void> {
    // Parse the whole chunk first: every header in it is known before its payload bytes are placed.
    this.#parser.push(chunk);
    const usable = Math.max(0, Math.min(chunk.length, this.#limit - this.#pos));
    let off = 0;
    while (off < usable) {
      if (this.#inPayload && this.#pos >= this.#payloadEnd && this.#codec.containersStorage) {
        this.#inPayload = false;
        await this.#closeMember();
        continue;
      }
      const cut = this.#cuts[this.#cutHead];
      if (cut !== undefined && cut.pos <= this.#pos) {
        this.#cutHead++;
        await this.#startChunk(cut);
        continue;
      }
      let n = usable - off;
      if (cut !== undefined) n = Math.min(n, cut.pos - this.#pos);
      if (this.#pos < this.#payloadEnd) {
        n = Math.min(n, this.#payloadEnd - this.#pos);
      } else {
        const cap = this.#chunkSize + MEMBER_SLACK;
        if (this.#memberLength >= cap) {
          await this.#closeMember();
          continue;
        }
        n = Math.min(n, cap - this.#memberLength);
      }
      this.#append(chunk.subarray(off, off + n));
      off += n;
    }
    if (this.#cutHead > 1024) {
      this.#cuts.splice(0, this.#cutHead);
      this.#cutHead = 0;
    }
    if (this.#splitHead > 1024) {
      this.#splitEntries.splice(0, this.#splitHead);
      this.#splitHead = 0;
    }
  }

  /** Close the last member, write the TOC and the footer; resolves with the layer's digests. */
  async finish(): Promise<AssembledLayer> {
    this.#parser.end();
    if (this.#cutHead < this.#cuts.length || this.#file !== undefined || this.#chunk !== undefined) {
      throw new EstargzError('IMG_ESTARGZ_CORRUPT_DATA', 'tar stream ended inside a file payload');
    }
    if (this.#memberLength > 0) await this.#closeMember();
    while (this.#inFlight.length > 0) await this.#emitOldest();
    for (const [entry, member] of this.#memberOf) {
      const offset = this.#memberOffsets[member]!;
      if (offset !== 0) entry.offset = offset;
    }
    for (const [entry, member] of this.#endMemberOf) entry.endOffset = this.#memberEnds[member]!;
    let tarSplit: CompressedTarSplit | undefined;
    if (this.#tarSplit !== undefined) {
      this.#splitTo(this.#pos);
      tarSplit = await this.#tarSplit.finish();
    }
    const tail = await this.#codec.tail(
      { version: 1, entries: this.#entries },
      this.#compressedPos,
      tarSplit,
    );
    this.#diff.update(tail.streamBytes);
    this.#uncompressed += tail.streamBytes.length;
    await this.#emit(tail.blobBytes);
    return {
      tocDigest: tail.tocDigest,
      diffId: `sha256:${this.#diff.digest('hex')}` as Digest,
      uncompressedSize: this.#uncompressed,
      compressedSize: this.#compressedPos,
      annotations: tail.annotations,
    };
  }

  #onEntry(info: TarEntryInfo): void {
    const entry = this.#factory.entryFor(info);
    this.#entries.push(entry);
    if (this.#tarSplit !== undefined) {
      this.#splitEntries.push({ name: info.name, dataOffset: info.dataOffset, size: info.size });
    }
    if (entry.type !== 'reg') return;
    if (info.size === 0) {
      entry.digest = EMPTY_SHA256;
      return;
    }
    const name = cleanEntryName(info.name);
    const landmark = name === PREFETCH_LANDMARK || name === NO_PREFETCH_LANDMARK;
    const forceNewMember = landmark || this.#afterLandmark;
    this.#afterLandmark = landmark;
    for (let chunkOffset = 0; chunkOffset < info.size; chunkOffset += this.#chunkSize) {
      const remain = info.size - chunkOffset;
      const length = Math.min(remain, this.#chunkSize);
      const chunkEntry: TocEntry = chunkOffset === 0 ? entry : { name: info.name, type: 'chunk' };
      if (chunkOffset > 0) {
        chunkEntry.chunkOffset = chunkOffset;
        this.#entries.push(chunkEntry);
      }
      // As the reference writer: chunkSize on every chunk but a last one shorter than the chunk size;
      // containers/storage gives every chunk of a chunked file its size.
      if (remain >= this.#chunkSize || (this.#codec.containersStorage && info.size > this.#chunkSize)) {
        chunkEntry.chunkSize = length;
      }
      this.#cuts.push({
        pos: info.dataOffset + chunkOffset,
        length,
        entry: chunkEntry,
        file: entry,
        ...(chunkOffset === 0 ? { fileSize: info.size } : {}),
        forceNewMember: chunkOffset === 0 && forceNewMember,
      });
    }
  }

  async #startChunk(cut: Cut): Promise<void> {
    if (cut.pos !== this.#pos) throw new Error(`internal: cut at ${cut.pos} reached at ${this.#pos}`);
    const share =
      this.#minChunkSize > 0 &&
      !this.#codec.containersStorage &&
      !cut.forceNewMember &&
      this.#memberLength < this.#minChunkSize;
    if (share && this.#memberLength > 0) {
      cut.entry.innerOffset = this.#memberLength;
    } else if (this.#memberLength > 0) {
      await this.#closeMember();
    }
    this.#memberOf.set(cut.entry, this.#memberIndex);
    if (this.#codec.containersStorage) {
      this.#inPayload = true;
      this.#endMemberOf.set(cut.entry, this.#memberIndex);
      this.#endMemberOf.set(cut.file, this.#memberIndex);
    }
    this.#payloadEnd = cut.pos + cut.length;
    // A file of one chunk gets its digest from the chunk's hash; no second pass over its bytes.
    const wholeFile = cut.fileSize === cut.length;
    this.#chunk = { end: this.#payloadEnd, hash: createHash('sha256'), entry: cut.entry, wholeFile };
    if (cut.fileSize !== undefined && !wholeFile) {
      this.#file = { end: cut.pos + cut.fileSize, hash: createHash('sha256'), entry: cut.entry };
    }
  }

  #append(bytes: Buffer): void {
    if (this.#tarSplit !== undefined) this.#split(bytes, this.#pos);
    this.#chunks.hold(bytes);
    this.#member.push(bytes);
    this.#memberLength += bytes.length;
    this.#diff.update(bytes);
    this.#uncompressed += bytes.length;
    const start = this.#pos;
    this.#pos += bytes.length;
    this.#chunk = hashInto(this.#chunk, bytes, start, (range, digest) => {
      range.entry.chunkDigest = digest;
      if (range.wholeFile) range.entry.digest = digest;
    });
    this.#file = hashInto(this.#file, bytes, start, (range, digest) => {
      range.entry.digest = digest;
    });
  }

  /** Feed tar-split the bytes at tar position `start`: file data, or segments between entries. */
  #split(bytes: Buffer, start: number): void {
    const split = this.#tarSplit!;
    let off = 0;
    while (off < bytes.length) {
      const at = start + off;
      if (at < this.#splitFileEnd) {
        const n = Math.min(bytes.length - off, this.#splitFileEnd - at);
        split.fileData(bytes.subarray(off, off + n));
        off += n;
        if (at + n === this.#splitFileEnd) split.endFile();
        continue;
      }
      const next = this.#splitEntries[this.#splitHead];
      if (next !== undefined && next.dataOffset <= at) {
        this.#startSplitFile(next);
        continue;
      }
      const n = Math.min(
        bytes.length - off,
        next === undefined ? Number.POSITIVE_INFINITY : next.dataOffset - at,
      );
      split.segment(bytes.subarray(off, off + n));
      off += n;
    }
  }

  /** Entries whose headers end at or before `position` (the stream's end) that tar-split has not seen. */
  #splitTo(position: number): void {
    for (;;) {
      const next = this.#splitEntries[this.#splitHead];
      if (next === undefined || next.dataOffset > position) return;
      this.#startSplitFile(next);
    }
  }

  #startSplitFile(entry: { name: string; dataOffset: number; size: number }): void {
    this.#splitHead++;
    this.#tarSplit!.startFile(entry.name, entry.size);
    if (entry.size > 0) this.#splitFileEnd = entry.dataOffset + entry.size;
  }

  async #closeMember(): Promise<void> {
    const pieces = this.#member;
    const length = this.#memberLength;
    this.#member = [];
    this.#memberLength = 0;
    this.#memberIndex++;
    const job = this.#compress(pieces);
    job.catch(() => {});
    const bytes = 2 * length + MEMBER_OVERHEAD;
    this.#inFlight.push({ job, bytes });
    this.#bytesInFlight += bytes;
    while (this.#bytesInFlight > IN_FLIGHT_BYTES) await this.#emitOldest();
  }

  async #compress(pieces: readonly Buffer[]): Promise<readonly Buffer[]> {
    if (this.#compressing >= this.#compressJobs) {
      // Woken by a finishing job, which hands its slot over (the count stays as it is).
      await new Promise<void>((resolve) => this.#waitingToCompress.push(resolve));
    } else {
      this.#compressing++;
    }
    try {
      return await this.#codec.member(pieces);
    } finally {
      for (const piece of pieces) this.#chunks.release(piece);
      const next = this.#waitingToCompress.shift();
      if (next) next();
      else this.#compressing--;
    }
  }

  async #emitOldest(): Promise<void> {
    const { job, bytes } = this.#inFlight.shift()!;
    this.#bytesInFlight -= bytes;
    await this.#emit(await job);
  }

  async #emit(member: readonly Buffer[]): Promise<void> {
    this.#memberOffsets.push(this.#compressedPos);
    for (const bytes of member) this.#compressedPos += bytes.length;
    this.#memberEnds.push(this.#compressedPos);
    for (const bytes of member) await this.#output(bytes);
  }
}

/** Feed the part of `bytes` (starting at tar position `start`) that lies in `range`; close it at its end. */
function hashInto(
  range: HashedRange | undefined,
  bytes: Buffer,
  start: number,
  done: (range: HashedRange, digest: string) => void,
): HashedRange | undefined {
  if (range === undefined || start >= range.end) return range;
  const n = Math.min(bytes.length, range.end - start);
  range.hash.update(n === bytes.length ? bytes : bytes.subarray(0, n));
  if (start + n < range.end) return range;
  done(range, `sha256:${range.hash.digest('hex')}`);
  return undefined;
}
