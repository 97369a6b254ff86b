import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { type Digest, SpecError } from '@img/oci-spec';
import type { BlobRef, RemoteCache } from '@img/remote-cache';
import type {
  BlobStat,
  FileAdoptingBlobStore,
  ListableBlobStore,
  OpenBlobOptions,
  RefreshableBlobStore,
  SizedBlob,
  StatBlobOptions,
  StoredBlob,
  WriteBlobOptions,
} from './blob-store.js';
import { type CasRecord, CasRecords } from './cas-records.js';
import { casReadError, casWriteError, firstData, isWrongSize } from './cas-streams.js';
import { type BlobDigest, createDigestVerifier } from './digests.js';
import { blobNotFound, CasRegistryError } from './errors.js';
import { STALE_TEMP_MS } from './fs-blob-store.js';

const TEMP_DIR = '_tmp';
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const RECORDS_DIR = 'records';

export interface CasBlobStoreOptions {
  /**
   * Directory for the store's records (the size of each blob, and the sha256 a sha512 blob is kept
   * under) and for spooling uploads whose size or sha256 is not known up front. Required.
   */
  readonly root: string;
}

/** Counts bytes and computes their sha256 on the way through. */
function sha256Counter(): Transform & { readonly sha256: () => string; readonly bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return Object.assign(t, { sha256: () => `sha256:${hash.digest('hex')}`, bytes: () => bytes });
}

/**
 * Blobs in a Bazel remote cache (REAPI v2 CAS): uploads are verified and written with ByteStream (small
 * ones in a batch), reads stream from the CAS (ranges with `read_offset` + `read_limit`). The CAS finds a
 * blob by sha256 *and size*, so the store keeps a durable record per blob (its size; for a sha512 blob,
 * the sha256 it is kept under) under `root`. A blob someone else wrote to the CAS (a Bazel build) is
 * learned from the size a manifest's descriptor gives (`stat(digest, { size })`).
 *
 * The CAS may evict any blob at any time: `stat` asks FindMissingBlobs every time, and `open` waits for
 * the first bytes, so a blob the CAS lost is IMG_CASREG_BLOB_NOT_FOUND before anything is sent. `delete`
 * drops the record only: nothing can delete from a CAS (its own eviction reclaims the bytes).
 */
export class CasBlobStore implements FileAdoptingBlobStore, ListableBlobStore, RefreshableBlobStore {
  readonly cache: RemoteCache;
  readonly root: string;
  readonly #records: CasRecords;

  constructor(cache: RemoteCache, options: CasBlobStoreOptions) {
    if (typeof options?.root !== 'string' || options.root === '') {
      throw new CasRegistryError(
        'IMG_CASREG_INVALID_OPTION',
        'root: a directory for the CAS records is required',
      );
    }
    this.cache = cache;
    this.root = options.root;
    this.#records = new CasRecords(join(options.root, RECORDS_DIR));
  }

  /** Creates the directories, removes stale temp files and checks the cache (capabilities: CAS, sha256). */
  async prepare(): Promise<void> {
    const temp = join(this.root, TEMP_DIR);
    await mkdir(temp, { recursive: true });
    await mkdir(this.#records.root, { recursive: true });
    const now = Date.now();
    for (const name of await readdir(temp)) {
      const info = await stat(join(temp, name)).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_TEMP_MS) await rm(join(temp, name), { force: true });
    }
    try {
      await this.cache.capabilities();
    } catch (err) {
      throw casReadError(err, 'remote cache');
    }
  }

  /** The blob as the CAS knows it. */
  #ref(digest: BlobDigest, record: CasRecord): BlobRef {
    return { digest: (record.sha256 ?? digest.value) as Digest, size: record.size };
  }

  async #has(ref: BlobRef, signal?: AbortSignal): Promise<boolean> {
    try {
      return (await this.cache.findMissingBlobs([ref], signal ? { signal } : {})).length === 0;
    } catch (err) {
      throw casReadError(err, ref.digest);
    }
  }

  async stat(digest: BlobDigest, options: StatBlobOptions = {}): Promise<BlobStat | undefined> {
    const record = await this.#records.get(digest);
    if (record)
      return (await this.#has(this.#ref(digest, record), options.signal)) ? { size: record.size } : undefined;
    const size = options.size;
    if (digest.algorithm !== 'sha256' || size === undefined || !Number.isSafeInteger(size) || size < 0) {
      return undefined;
    }
    // Written to the CAS by someone else (a build): remember its size, so it can be served.
    if (!(await this.#holds({ digest: digest.value as Digest, size }, options.signal))) return undefined;
    await this.#records.put(digest, { size, learned: true });
    return { size };
  }

  /**
   * Whether the CAS holds the blob with exactly this size. FindMissingBlobs alone cannot say: some caches
   * (BuildGrid 0.4.4's disk storage) look blobs up by hash only. So a small blob is read and verified, a
   * large one's last byte is read (a size past the end fails); a size short of the real one is caught by
   * the first full read, which verifies, and makes the store forget the learned size.
   */
  async #holds(ref: BlobRef, signal?: AbortSignal): Promise<boolean> {
    if (ref.size === 0) return ref.digest === EMPTY_SHA256;
    if (!(await this.#has(ref, signal))) return false;
    const options = signal ? { signal } : {};
    try {
      if (await this.cache.usesBatch(ref, options)) await this.cache.readBlob(ref, options);
      else await buffer(await this.cache.openBlobRange(ref, { offset: ref.size - 1, length: 1, ...options }));
      return true;
    } catch (err) {
      if (isWrongSize(err)) return false;
      throw casReadError(err, ref.digest);
    }
  }

  async open(digest: BlobDigest, options: OpenBlobOptions = {}): Promise<Readable> {
    const record = await this.#records.get(digest);
    if (!record) throw blobNotFound(digest.value, `CAS records ${this.#records.root}`);
    const offset = options.offset ?? 0;
    const length = options.length ?? record.size - offset;
    if (offset < 0 || length < 0 || offset + length > record.size) {
      throw new CasRegistryError(
        'IMG_CASREG_SIZE_MISMATCH',
        `${digest.value}: range ${offset}+${length} is outside the ${record.size} stored bytes`,
      );
    }
    // Nothing to read (every CAS holds the empty blob); createReadStream-like streams cannot say so either.
    if (length === 0) return Readable.from([]);
    const ref = this.#ref(digest, record);
    const signal = options.signal ? { signal: options.signal } : {};
    try {
      const stream =
        offset === 0 && length === record.size
          ? await this.cache.openBlob(ref, signal)
          : await this.cache.openBlobRange(ref, { offset, length, ...signal });
      if (record.learned) {
        // Wrong bytes for a size a manifest claimed: forget it, so the blob can be pushed (or learned) again.
        stream.once('error', (err) => {
          if (err instanceof SpecError) void this.#records.delete(digest).catch(() => {});
        });
      }
      // The first bytes (or the CAS's NOT_FOUND) before the caller sends any header.
      await firstData(stream);
      return stream;
    } catch (err) {
      throw casReadError(err, digest.value);
    }
  }

  async write(digest: BlobDigest, body: Readable, options: WriteBlobOptions = {}): Promise<BlobStat> {
    const signal = options.signal ? { signal: options.signal } : {};
    const known = await this.#records.get(digest);
    if (known && (options.size ?? known.size) === known.size && (await this.#has(this.#ref(digest, known)))) {
      // Already in the CAS: still check the bytes the caller claims are this blob, but send nothing.
      const sink = new Writable({ write: (_c, _e, cb) => cb() });
      await pipeline(body, createDigestVerifier(digest, known.size), sink, signal);
      await this.#records.put(digest, known);
      return { size: known.size };
    }
    if (digest.algorithm === 'sha256' && options.size !== undefined) {
      // Digest and size known up front: the body goes straight to the CAS, checked on the way.
      const ref = { digest: digest.value as Digest, size: options.size };
      await this.#upload(ref, oneShot(body), options.signal);
      await this.#records.put(digest, { size: options.size });
      return { size: options.size };
    }
    // The CAS needs sha256 and size before the first byte: spool to a file, then upload from it.
    const temp = join(this.root, TEMP_DIR, randomBytes(12).toString('hex'));
    try {
      const counter = sha256Counter();
      await pipeline(
        body,
        createDigestVerifier(digest, options.size),
        counter,
        createWriteStream(temp, { mode: 0o600 }),
        signal,
      );
      return await this.#storeFile(digest, temp, counter.bytes(), counter.sha256(), options.signal);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Uploads a local file the caller verified (a finished upload session), then removes it. */
  async adopt(digest: BlobDigest, path: string, size: number): Promise<BlobStat> {
    let sha256 = digest.value;
    if (digest.algorithm !== 'sha256') {
      const counter = sha256Counter();
      await pipeline(createReadStream(path), counter, new Writable({ write: (_c, _e, cb) => cb() }));
      sha256 = counter.sha256();
    }
    const stored = await this.#storeFile(digest, path, size, sha256);
    await rm(path, { force: true });
    return stored;
  }

  async #storeFile(
    digest: BlobDigest,
    path: string,
    size: number,
    sha256: string,
    signal?: AbortSignal,
  ): Promise<BlobStat> {
    const record: CasRecord = digest.algorithm === 'sha256' ? { size } : { size, sha256 };
    const ref = this.#ref(digest, record);
    if (!(await this.#has(ref, signal))) {
      await this.#upload(ref, { open: async () => createReadStream(path) }, signal);
    }
    await this.#records.put(digest, record);
    return { size };
  }

  async #upload(ref: BlobRef, content: Parameters<RemoteCache['writeBlob']>[1], signal?: AbortSignal) {
    try {
      await this.cache.writeBlob(ref, content, signal ? { signal } : {});
    } catch (err) {
      throw casWriteError(err, ref.digest);
    }
  }

  /** Forgets the blob (its record); the bytes stay in the CAS until the CAS evicts them. */
  delete(digest: BlobDigest): Promise<boolean> {
    return this.#records.delete(digest);
  }

  async *list(): AsyncIterable<StoredBlob> {
    for await (const { digest, record, modifiedMs } of this.#records.list()) {
      yield { digest, size: record.size, modifiedMs };
    }
  }

  /** FindMissingBlobs on the blobs (marking them used in the CAS); returns those the CAS lost. */
  async refresh(
    blobs: readonly SizedBlob[],
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<BlobDigest[]> {
    const refs: Array<BlobRef & { readonly blob: BlobDigest }> = [];
    for (const { digest, size } of blobs) {
      const record = digest.algorithm === 'sha256' ? { size } : await this.#records.get(digest);
      if (record) refs.push({ ...this.#ref(digest, record), blob: digest });
    }
    try {
      const missing = await this.cache.findMissingBlobs(
        refs,
        options.signal ? { signal: options.signal } : {},
      );
      return missing.map((m) => m.blob);
    } catch (err) {
      throw casReadError(err, `${refs.length} blob(s)`);
    }
  }
}

/** A request body as an upload source: it can be read once; a second open (a retry) fails the upload. */
function oneShot(body: Readable): { open(): Promise<Readable> } {
  let used = false;
  return {
    async open() {
      if (used) {
        body.destroy();
        throw new CasRegistryError(
          'IMG_CASREG_UNAVAILABLE',
          'the remote cache broke off the upload, and the request body cannot be sent twice; push again',
        );
      }
      used = true;
      return body;
    },
  };
}
