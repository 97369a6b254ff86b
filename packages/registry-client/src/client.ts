import type { Readable } from 'node:stream';
import type { BlobLocation, BlobSource, Descriptor, ImageGraph } from '@img/oci-spec';
import { pullScope } from './auth/scopes.js';
import { type RegistryClientOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { blobExists, fetchBlobBytes, openBlob, registryBlobSource } from './pull/blob.js';
import { fetchManifest, headManifest, type RawDocument } from './pull/manifest.js';
import { type PullOptions, type PullResult, pullImage } from './pull/pull-image.js';
import type { BlobToPush } from './push/check-image.js';
import type { PushSummary } from './push/progress.js';
import { pushBlobs } from './push/push-blobs.js';
import { type PushOptions, type PushResult, pushImage } from './push/push-image.js';
import { formatReference, normalizeRegistry, type Reference, toReference } from './reference.js';
import { withDeadline } from './transport/timeouts.js';
import { Transport } from './transport/transport.js';

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

/** The deadline's error when it is what ended the call (not the caller's own signal), else `err`. */
function deadlineError(
  combined: AbortSignal | undefined,
  own: AbortSignal | undefined,
  err: unknown,
): unknown {
  if (combined?.aborted && !own?.aborted) return combined.reason;
  return err;
}

function source(s: BlobLocation): BlobLocation {
  return { registry: normalizeRegistry(s.registry), repository: s.repository };
}

/**
 * A registry client: one keep-alive connection pool per registry, credentials looked up once per
 * registry/repository, tokens cached by scope. Reuse one client for a pull and the push that follows
 * (base layers are then mounted with tokens already at hand). Call close() when done.
 */
export class RegistryClient {
  readonly #options: ResolvedOptions;
  readonly #transport: Transport;

  constructor(options: RegistryClientOptions = {}) {
    this.#options = resolveOptions(options);
    this.#transport = new Transport(this.#options.transport);
  }

  /**
   * Shallow pull: the root document's exact bytes, the child manifests of an index (all, or the one
   * for `platform`), and each image's config. Layers are downloaded only when `layers` is given.
   */
  pullImage(ref: string | Reference, options: PullOptions = {}): Promise<PullResult> {
    const r = toReference(ref);
    return this.#within(`pull ${formatReference(r)}`, options.signal, (signal) =>
      pullImage(this.#transport, this.#options, r, { ...options, signal }),
    );
  }

  /** A manifest or index by tag or digest, verified, exact bytes. */
  fetchManifest(ref: string | Reference, options: RequestOptions = {}): Promise<RawDocument> {
    const r = toReference(ref);
    return this.#within(`GET manifest ${formatReference(r)}`, options.signal, (signal) =>
      fetchManifest(this.#transport, r, this.#options.maxManifestBytes, { signal }),
    );
  }

  /** A manifest's descriptor by HEAD, or undefined when the registry does not have it. */
  headManifest(ref: string | Reference, options: RequestOptions = {}): Promise<Descriptor | undefined> {
    const r = toReference(ref);
    return this.#within(`HEAD manifest ${formatReference(r)}`, options.signal, (signal) =>
      headManifest(this.#transport, r, { signal }),
    );
  }

  /**
   * A blob as a stream verified against `descriptor` (digest and size) before its end. The deadline
   * runs until the stream ends.
   */
  async fetchBlob(
    from: BlobLocation,
    descriptor: Descriptor,
    options: RequestOptions = {},
  ): Promise<Readable> {
    const s = source(from);
    const deadline = withDeadline(
      this.#options.deadlineMs,
      `GET blob ${s.registry}/${s.repository}@${descriptor.digest}`,
      options.signal,
    );
    try {
      const stream = await openBlob(this.#transport, s, descriptor, { signal: deadline.signal });
      stream.once('close', deadline.done);
      return stream;
    } catch (err) {
      deadline.done();
      throw deadlineError(deadline.signal, options.signal, err);
    }
  }

  /**
   * A blob of a repository as a BlobSource (one more place bytes live): each open() fetches it,
   * verified. Combine sources with `firstAvailableSource` from @img/oci-spec.
   */
  blobSource(at: BlobLocation, descriptor: Descriptor, options: RequestOptions = {}): BlobSource {
    return registryBlobSource(this.#transport, source(at), descriptor, options);
  }

  /** A small blob (a config) in memory, verified; at most `maxConfigBytes`. */
  fetchBlobBytes(
    from: BlobLocation,
    descriptor: Descriptor,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    const s = source(from);
    return this.#within(
      `GET blob ${s.registry}/${s.repository}@${descriptor.digest}`,
      options.signal,
      (signal) => fetchBlobBytes(this.#transport, s, descriptor, this.#options.maxConfigBytes, { signal }),
    );
  }

  /** HEAD a blob in a repository. */
  blobExists(
    at: BlobLocation,
    descriptor: Pick<Descriptor, 'digest'>,
    options: RequestOptions = {},
  ): Promise<boolean> {
    const s = source(at);
    return this.#within(
      `HEAD blob ${s.registry}/${s.repository}@${descriptor.digest}`,
      options.signal,
      (signal) => blobExists(this.#transport, s, descriptor, [pullScope(s.repository)], { signal }),
    );
  }

  /**
   * Push an image to `target` (`registry/repository[:tag]`; a digest, if given, must be the root's).
   * Blobs first (skip existing, mount same-registry sources, upload or stream the rest), then child
   * manifests, then the root under every tag, or by digest when there is no tag.
   */
  pushImage(target: string | Reference, image: ImageGraph, options: PushOptions = {}): Promise<PushResult> {
    const ref = toReference(target, { defaultTag: false });
    return this.#within(`push ${formatReference(ref)}`, options.signal, (signal) =>
      pushImage(this.#transport, this.#options, ref, image, { ...options, signal }),
    );
  }

  /** Run one call under the deadline; its expiry is reported as the deadline's IMG_REGISTRY_TIMEOUT. */
  async #within<T>(
    what: string,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    const deadline = withDeadline(this.#options.deadlineMs, what, signal);
    try {
      return await fn(deadline.signal);
    } catch (err) {
      throw deadlineError(deadline.signal, signal, err);
    } finally {
      deadline.done();
    }
  }

  /**
   * Push blobs into `target` without a manifest (push at build time): present ones are skipped,
   * same-registry sources mounted, the rest uploaded.
   */
  pushBlobs(
    target: BlobLocation,
    blobs: readonly BlobToPush[],
    options: Pick<PushOptions, 'onProgress' | 'signal'> = {},
  ): Promise<PushSummary> {
    return pushBlobs(this.#transport, this.#options, source(target), blobs, options);
  }

  /** Close the connection pools (idle keep-alive sockets). */
  close(): Promise<void> {
    return this.#transport.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
