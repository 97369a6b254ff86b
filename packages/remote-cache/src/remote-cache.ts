import { PassThrough, pipeline, type Readable, Transform } from 'node:stream';
import { createVerifyStream, type Digest, SpecError } from '@img/oci-spec';
import { fitsInBatch, planBatches } from './batch-plan.js';
import { type BlobRef, readResourceName, toReapiDigest, verifyBlobBytes } from './blob-ref.js';
import { ResumableRead } from './bytestream-read.js';
import { type BlobOpener, byteStreamWrite } from './bytestream-write.js';
import { Connection } from './connection.js';
import { parseEndpoint, type RemoteCacheEndpoint } from './endpoint.js';
import { RemoteCacheError } from './errors.js';
import { type RemoteCacheOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { withRetry } from './retry.js';

/** What the server said it offers (GetCapabilities), as far as a cache client cares. */
export interface RemoteCacheCapabilities {
  /** REAPI digest function names, e.g. ['SHA256']. */
  readonly digestFunctions: readonly string[];
  /** The server's `max_batch_total_size_bytes` (0: no limit of its own). */
  readonly maxBatchTotalSizeBytes: number;
  /** The batch limit this client uses: the server's, capped by the `maxBatchBytes` option. */
  readonly batchLimitBytes: number;
  /** Compressors the server accepts for blobs (`compressed-blobs`); unused by this client. */
  readonly supportedCompressors: readonly string[];
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface OpenBlobOptions extends CallOptions {
  /** Start at this byte. The bytes before it are still read and hashed: a verified suffix needs them. */
  readonly offset?: number;
}

export interface OpenBlobRangeOptions extends CallOptions {
  /** First byte of the range. */
  readonly offset: number;
  /** Bytes in the range. */
  readonly length: number;
}

export interface ReadBlobOptions extends CallOptions {
  /** Refuse blobs larger than this (use openBlob to stream them). Default DEFAULT_MAX_READ_BYTES. */
  readonly maxBytes?: number;
}

/** readBlob's default cap: whole blobs in memory are for manifests, configs and metadata. */
export const DEFAULT_MAX_READ_BYTES = 64 * 1024 * 1024;
/** Digests per FindMissingBlobs / batch request (a request stays far below 4 MiB). */
const MAX_DIGESTS_PER_REQUEST = 10_000;
/** Bytes a gRPC message may carry beyond the batch limit (field tags, statuses). */
const MESSAGE_SLACK_BYTES = 1024 * 1024;

const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Open a client for a Bazel remote cache (REAPI v2): `grpc://HOST:PORT`, `grpcs://HOST[:PORT]`,
 * `HOST:PORT` (TLS) or `unix:PATH`. Nothing is sent until the first call; options are checked now.
 */
export function connectRemoteCache(endpoint: string, options: RemoteCacheOptions = {}): RemoteCache {
  return new RemoteCache(parseEndpoint(endpoint), resolveOptions(options));
}

/**
 * A REAPI v2 CAS client. Every read is checked against its sha256 and size before it is handed out;
 * transient failures are retried with backoff, NOT_FOUND never.
 */
export class RemoteCache {
  readonly endpoint: RemoteCacheEndpoint;
  readonly instanceName: string;
  readonly #o: ResolvedOptions;
  readonly #connection: Connection;
  #capabilities: Promise<RemoteCacheCapabilities> | undefined;

  /** Use connectRemoteCache. */
  constructor(endpoint: RemoteCacheEndpoint, options: ResolvedOptions) {
    this.endpoint = endpoint;
    this.instanceName = options.instanceName;
    this.#o = options;
    this.#connection = new Connection(endpoint, {
      headers: options.headers,
      credentialHelper: options.credentialHelper,
      caFile: options.caFile,
      tlsClientCertificate: options.tlsClientCertificate,
      tlsClientKey: options.tlsClientKey,
      protoDir: options.protoDir,
      maxReceiveMessageBytes: options.maxBatchBytes + MESSAGE_SLACK_BYTES,
    });
  }

  /**
   * The server's capabilities, asked once. Fails with IMG_REMOTE_CACHE_UNSUPPORTED when the server is
   * no CAS or does not offer sha256.
   */
  capabilities(options: CallOptions = {}): Promise<RemoteCacheCapabilities> {
    if (this.#capabilities === undefined) {
      const asked = this.#askCapabilities(options.signal);
      this.#capabilities = asked;
      asked.catch(() => {
        if (this.#capabilities === asked) this.#capabilities = undefined;
      });
    }
    return this.#capabilities;
  }

  async #askCapabilities(signal?: AbortSignal): Promise<RemoteCacheCapabilities> {
    const res = await this.#unary<{
      cache_capabilities?: {
        digest_functions?: string[];
        max_batch_total_size_bytes?: number;
        supported_compressors?: string[];
      } | null;
    }>(
      'capabilities',
      'GetCapabilities',
      { instance_name: this.instanceName },
      'asking capabilities',
      signal,
    );
    const where = `remote cache ${this.endpoint.url}${this.instanceName === '' ? '' : ` (instance ${this.instanceName})`}`;
    const cache = res.cache_capabilities;
    if (cache === undefined || cache === null) {
      throw new RemoteCacheError(
        'IMG_REMOTE_CACHE_UNSUPPORTED',
        `${where} offers no content-addressable storage`,
      );
    }
    const digestFunctions = cache.digest_functions ?? [];
    if (!digestFunctions.includes('SHA256')) {
      throw new RemoteCacheError(
        'IMG_REMOTE_CACHE_UNSUPPORTED',
        `${where} does not offer sha256 digests (offers: ${digestFunctions.join(', ') || 'none'})`,
      );
    }
    const serverMax = Number(cache.max_batch_total_size_bytes ?? 0);
    return {
      digestFunctions,
      maxBatchTotalSizeBytes: serverMax,
      batchLimitBytes: serverMax > 0 ? Math.min(serverMax, this.#o.maxBatchBytes) : this.#o.maxBatchBytes,
      supportedCompressors: cache.supported_compressors ?? [],
    };
  }

  /** The blobs of `blobs` the cache does not hold (each once, in input order). */
  async findMissingBlobs<T extends BlobRef>(blobs: readonly T[], options: CallOptions = {}): Promise<T[]> {
    const unique = dedupe(blobs).filter((b) => !isEmptyBlob(b));
    if (unique.length === 0) return [];
    await this.capabilities(options);
    const missing = new Set<string>();
    for (let i = 0; i < unique.length; i += MAX_DIGESTS_PER_REQUEST) {
      const chunk = unique.slice(i, i + MAX_DIGESTS_PER_REQUEST);
      const res = await this.#unary<{ missing_blob_digests: { hash: string; size_bytes: number }[] }>(
        'cas',
        'FindMissingBlobs',
        { instance_name: this.instanceName, blob_digests: chunk.map(toReapiDigest) },
        `looking up ${chunk.length} blob(s)`,
        options.signal,
      );
      for (const d of res.missing_blob_digests) missing.add(`sha256:${d.hash}/${Number(d.size_bytes)}`);
    }
    return unique.filter((b) => missing.has(`${b.digest}/${b.size}`));
  }

  /** True when the blob goes through BatchRead/BatchUpdate rather than ByteStream (after capabilities). */
  async usesBatch(blob: BlobRef, options: CallOptions = {}): Promise<boolean> {
    const caps = await this.capabilities(options);
    return fitsInBatch(blob, caps.batchLimitBytes, this.#requestOverhead());
  }

  /** Whole blobs in memory, verified, in input order (small ones batched, large ones streamed). */
  async readBlobs(blobs: readonly BlobRef[], options: ReadBlobOptions = {}): Promise<Buffer[]> {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_READ_BYTES;
    for (const blob of blobs) {
      toReapiDigest(blob);
      if (blob.size > maxBytes) {
        throw new RemoteCacheError(
          'IMG_INVALID_OPTIONS',
          `${blob.digest}: ${blob.size} bytes is more than maxBytes ${maxBytes}; stream it with openBlob`,
        );
      }
    }
    const caps = blobs.some((b) => !isEmptyBlob(b)) ? await this.capabilities(options) : undefined;
    const results = new Map<string, Buffer>();
    const batchable: BlobRef[] = [];
    for (const blob of dedupe(blobs)) {
      if (isEmptyBlob(blob)) results.set(key(blob), Buffer.alloc(0));
      else if (caps && fitsInBatch(blob, caps.batchLimitBytes, this.#requestOverhead())) batchable.push(blob);
      else results.set(key(blob), await collect(await this.openBlob(blob, options), blob.size, blob.digest));
    }
    for (const batch of planBatches(
      batchable,
      caps?.batchLimitBytes ?? 0,
      this.#requestOverhead(),
      MAX_DIGESTS_PER_REQUEST,
    )) {
      for (const [k, data] of await this.#batchRead(batch, options.signal)) results.set(k, data);
    }
    return blobs.map((b) => results.get(key(b))!);
  }

  /** One whole blob in memory, verified. */
  async readBlob(blob: BlobRef, options: ReadBlobOptions = {}): Promise<Buffer> {
    return (await this.readBlobs([blob], options))[0]!;
  }

  async #batchRead(batch: readonly BlobRef[], signal?: AbortSignal): Promise<Map<string, Buffer>> {
    const res = await this.#unary<{
      responses: {
        digest: { hash: string; size_bytes: number };
        data: Buffer;
        status?: { code: number; message: string } | null;
      }[];
    }>(
      'cas',
      'BatchReadBlobs',
      { instance_name: this.instanceName, digests: batch.map(toReapiDigest), acceptable_compressors: [] },
      `reading ${batch.length} blob(s)`,
      signal,
    );
    const byHash = new Map(res.responses.map((r) => [r.digest?.hash, r]));
    const out = new Map<string, Buffer>();
    for (const blob of batch) {
      const r = byHash.get(toReapiDigest(blob).hash);
      const code = r?.status?.code ?? (r === undefined ? 5 : 0);
      if (code !== 0) {
        const err = Object.assign(new Error(r?.status?.message || 'no response for this blob'), {
          code,
          details: r?.status?.message || 'absent from the response',
        });
        throw this.#connection.error(err, `reading ${blob.digest}`);
      }
      const data = r!.data ?? Buffer.alloc(0);
      verifyBlobBytes(data, blob, `${blob.digest} from ${this.endpoint.url}`);
      out.set(key(blob), data);
    }
    return out;
  }

  /**
   * A stream of the blob's bytes that fails (IMG_DIGEST_MISMATCH / IMG_SIZE_MISMATCH) before it ends
   * when they do not match the digest and size. Small blobs are read in one batch; large ones through
   * ByteStream, resuming a broken stream where it stopped.
   */
  async openBlob(blob: BlobRef, options: OpenBlobOptions = {}): Promise<Readable> {
    toReapiDigest(blob);
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > blob.size) {
      throw new RemoteCacheError(
        'IMG_INVALID_OPTIONS',
        `${blob.digest}: offset ${offset} is outside 0..${blob.size}`,
      );
    }
    const where = `${blob.digest} from ${this.endpoint.url}`;
    if (isEmptyBlob(blob) || (await this.usesBatch(blob, options))) {
      const [data] = await this.readBlobs([blob], options);
      const out = new PassThrough();
      out.end(data!.subarray(offset));
      return out;
    }
    const raw = new ResumableRead({
      connection: this.#connection,
      resource: readResourceName(this.instanceName, blob),
      blob,
      retry: this.#o.retry,
      idleTimeoutMs: this.#o.timeoutMs,
      signal: options.signal,
    });
    const verified = createVerifyStream(blob, where);
    if (offset === 0) return pipeline(raw, verified, () => {});
    return pipeline(raw, verified, skipBytes(offset), () => {});
  }

  /**
   * The bytes `offset` .. `offset + length - 1` of a blob, read with ByteStream's `read_offset` and
   * `read_limit` (what an HTTP Range request needs; openBlob would read the whole prefix to verify it).
   * A range cannot be checked against the digest: only its length is, before the stream ends. A small
   * blob is read whole in one batch, verified, and sliced. A broken stream resumes where it stopped.
   */
  async openBlobRange(blob: BlobRef, options: OpenBlobRangeOptions): Promise<Readable> {
    toReapiDigest(blob);
    const { offset, length } = options;
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > blob.size
    ) {
      throw new RemoteCacheError(
        'IMG_INVALID_OPTIONS',
        `${blob.digest}: range ${offset}+${length} is outside 0..${blob.size}`,
      );
    }
    if (length === 0) return bufferStream(Buffer.alloc(0));
    if (isEmptyBlob(blob) || (await this.usesBatch(blob, options))) {
      const [data] = await this.readBlobs([blob], options);
      return bufferStream(data!.subarray(offset, offset + length));
    }
    return new ResumableRead({
      connection: this.#connection,
      resource: readResourceName(this.instanceName, blob),
      blob,
      start: offset,
      length,
      retry: this.#o.retry,
      idleTimeoutMs: this.#o.timeoutMs,
      signal: options.signal,
    });
  }

  /**
   * Upload a blob (bytes in memory, or anything with `open()` such as a BlobSource). Small blobs go in
   * one BatchUpdateBlobs, large ones through a resumable ByteStream.Write; the bytes are checked against
   * the digest and size on the way. Does not ask first whether the cache has it (see findMissingBlobs).
   */
  async writeBlob(blob: BlobRef, content: Uint8Array | BlobOpener, options: CallOptions = {}): Promise<void> {
    toReapiDigest(blob);
    const where = `${blob.digest} (upload source)`;
    if (isEmptyBlob(blob)) {
      // Every REAPI server holds the empty blob; only the source is checked.
      if (content instanceof Uint8Array) verifyBlobBytes(content, blob, where);
      return;
    }
    if (await this.usesBatch(blob, options)) {
      const data =
        content instanceof Uint8Array
          ? content
          : await collect(await content.open({ signal: options.signal }), blob.size, where);
      verifyBlobBytes(data, blob, where);
      await this.#batchUpdate([{ blob, data }], options.signal);
      return;
    }
    // Checked on the way out by byteStreamWrite.
    const opener: BlobOpener =
      content instanceof Uint8Array ? { open: async () => bufferStream(content) } : content;
    await byteStreamWrite({
      connection: this.#connection,
      instanceName: this.instanceName,
      blob,
      content: opener,
      retry: this.#o.retry,
      timeoutMs: this.#o.timeoutMs,
      chunkBytes: this.#o.writeChunkBytes,
      signal: options.signal,
    });
  }

  async #batchUpdate(
    entries: readonly { blob: BlobRef; data: Uint8Array }[],
    signal?: AbortSignal,
  ): Promise<void> {
    const res = await this.#unary<{
      responses: { digest: { hash: string }; status?: { code: number; message: string } | null }[];
    }>(
      'cas',
      'BatchUpdateBlobs',
      {
        instance_name: this.instanceName,
        requests: entries.map((e) => ({
          digest: toReapiDigest(e.blob),
          data: e.data,
          compressor: 'IDENTITY',
        })),
      },
      `writing ${entries.length} blob(s)`,
      signal,
    );
    for (const r of res.responses) {
      const code = r.status?.code ?? 0;
      if (code !== 0) {
        const err = Object.assign(new Error(r.status?.message ?? ''), {
          code,
          details: r.status?.message ?? '',
        });
        throw this.#connection.error(err, `writing sha256:${r.digest?.hash}`);
      }
    }
  }

  /** Closes the channel; calls under way fail. */
  close(): void {
    this.#connection.close();
  }

  #requestOverhead(): number {
    return 64 + Buffer.byteLength(this.instanceName);
  }

  async #unary<T>(
    service: 'cas' | 'capabilities' | 'bytestream',
    method: string,
    request: unknown,
    what: string,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return await withRetry(
        (attempt) =>
          this.#connection.unary<T>(service, method, request, {
            timeoutMs: this.#o.timeoutMs,
            signal,
            attempt,
          }),
        this.#o.retry,
        signal,
      );
    } catch (err) {
      throw signal?.aborted ? signal.reason : this.#connection.error(err, what);
    }
  }
}

function key(blob: BlobRef): string {
  return `${blob.digest}/${blob.size}`;
}

function dedupe<T extends BlobRef>(blobs: readonly T[]): T[] {
  const seen = new Set<string>();
  return blobs.filter((b) => {
    toReapiDigest(b);
    const k = key(b);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function isEmptyBlob(blob: BlobRef): boolean {
  return blob.size === 0 && blob.digest === (EMPTY_SHA256 as Digest);
}

async function collect(stream: Readable, expected: number, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > expected) {
      stream.destroy();
      throw new SpecError('IMG_SIZE_MISMATCH', `${where}: more than the expected ${expected} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function bufferStream(data: Uint8Array): Readable {
  const out = new PassThrough();
  out.end(data);
  return out;
}

function skipBytes(count: number): Transform {
  let left = count;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (left === 0) return cb(null, chunk);
      const skip = Math.min(left, chunk.length);
      left -= skip;
      cb(null, skip === chunk.length ? undefined : chunk.subarray(skip));
    },
  });
}
