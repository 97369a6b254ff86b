import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobLocation, Descriptor, Digest, GraphLimits } from '@img/oci-spec';
import type { RegistryClient } from '@img/registry-client';
import type { RemoteCache } from '@img/remote-cache';
import { readCasImage } from './cas-image.js';
import { DocumentCache } from './document-cache.js';
import { BesError } from './errors.js';
import type { PushCommitter, PushJob, PushOutcome } from './push-queue.js';
import type { PushRequestBlob } from './push-targets.js';

/** What a push request says, once parsed: the destination and the image's root in the CAS. */
export interface CasPushRequest {
  readonly registry: string;
  readonly repository: string;
  /** The first is the pushed reference's tag; none: pushed by digest. */
  readonly tags: readonly string[];
  readonly root: Descriptor;
  /** Registries holding blobs the CAS may lack (a pulled base's layers). */
  readonly locations?: ReadonlyMap<Digest, readonly BlobLocation[]>;
}

/**
 * Parses the bytes of a push request (the deploy request JSON img_rules writes); throws one line
 * naming `where` when they are not a BES push request. The CLI passes its deploy-request validator.
 */
export type ParsePushRequest = (bytes: Uint8Array, where: string) => CasPushRequest;

export interface CasPushCommitterOptions extends GraphLimits {
  /** The remote cache the request and the image are read from (per request: its bytestream:// instance). */
  readonly remoteCache: (request: PushRequestBlob) => RemoteCache;
  /** Pushes to the destination registries (credentials, retries, blob-location memory). */
  readonly registry: RegistryClient;
  readonly parseRequest: ParsePushRequest;
  /** Largest push request read. Default 4 MiB. */
  readonly maxRequestBytes?: number;
  /** Memory for manifests, indexes and configs kept between pushes (by digest). Default 64 MiB. */
  readonly documentCacheBytes?: number;
  /**
   * Waits before a blob the cache does not have yet is taken as missing: Bazel may report a target
   * complete while its outputs are still being uploaded (remote cache uploads in the background).
   * Default DEFAULT_UPLOAD_GRACE_MS = [1000, 2000, 4000].
   */
  readonly uploadGraceMs?: readonly number[];
}

export const DEFAULT_UPLOAD_GRACE_MS: readonly number[] = [1_000, 2_000, 4_000];

/** `attempt` again after each delay while it throws IMG_REMOTE_CACHE_NOT_FOUND / IMG_BES_BLOB_UNAVAILABLE. */
async function withUploadGrace<T>(
  delays: readonly number[],
  signal: AbortSignal,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const missing = code === 'IMG_REMOTE_CACHE_NOT_FOUND' || code === 'IMG_BES_BLOB_UNAVAILABLE';
      if (!missing || i >= delays.length || signal.aborted) throw err;
      await sleep(delays[i]!, undefined, { signal });
    }
  }
}

/**
 * The PushCommitter that pushes from the remote cache: reads the job's push request from the CAS,
 * reads the image's documents from it (cached by digest), and pushes with the registry client, whose
 * push sends nothing but tags when a tag already names the image, and otherwise only what the
 * registry lacks (layers streamed from the CAS, or mounted/streamed from a pulled base's registry).
 */
export function casPushCommitter(options: CasPushCommitterOptions): PushCommitter {
  const documents = new DocumentCache(options.documentCacheBytes ?? 64 * 1024 * 1024);
  const maxRequestBytes = options.maxRequestBytes ?? 4 * 1024 * 1024;
  return async (job: PushJob, { signal }): Promise<PushOutcome> => {
    const cache = options.remoteCache(job.request);
    const where = `${job.label} (push request ${job.request.name})`;
    if (job.request.size > maxRequestBytes) {
      throw new BesError(
        'IMG_BES_PUSH_REQUEST',
        `${where}: ${job.request.size} bytes, more than the ${maxRequestBytes} a push request may have`,
      );
    }
    const grace = options.uploadGraceMs ?? DEFAULT_UPLOAD_GRACE_MS;
    let bytes: Uint8Array;
    try {
      bytes = await withUploadGrace(grace, signal, () => documents.read(cache, job.request, signal));
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'IMG_REMOTE_CACHE_NOT_FOUND') throw err;
      throw new BesError(
        'IMG_BES_PUSH_REQUEST',
        `${where}: ${job.request.digest} is not in the remote cache ${cache.endpoint.url}; build with the same --remote_cache as the listener's --cas-endpoint`,
        { cause: err },
      );
    }
    const request = options.parseRequest(bytes, where);
    const graph = await withUploadGrace(grace, signal, () =>
      readCasImage(cache, request.root, {
        ...options,
        where: job.label,
        signal,
        ...(request.locations ? { locations: request.locations } : {}),
        readDocument: (d, s) => documents.read(cache, d, s),
      }),
    );
    const [first, ...more] = request.tags;
    const repo = `${request.registry}/${request.repository}`;
    const result = await options.registry.pushImage(
      first ? `${repo}:${first}` : `${repo}@${request.root.digest}`,
      graph,
      { tags: more, signal },
    );
    const digest = result.descriptor.digest;
    return {
      references: result.tags.length
        ? result.tags.map((t) => `${repo}:${t}@${digest}`)
        : [`${repo}@${digest}`],
      blobsUploaded: result.summary.blobsUploaded,
      bytesUploaded: result.summary.bytesUploaded,
      manifestsPushed: result.summary.manifestsPushed,
    };
  };
}
