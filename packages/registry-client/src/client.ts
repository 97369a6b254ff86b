import type { Readable } from 'node:stream';
import type { BlobSource, Descriptor } from '@img/oci-spec';
import { pullScope } from './auth/scopes.js';
import { type RegistryClientOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { blobExists, fetchBlobBytes, openBlob } from './pull/blob.js';
import { fetchManifest, headManifest, type RawDocument } from './pull/manifest.js';
import { type PulledImage, type PullOptions, pullImage } from './pull/pull-image.js';
import type { PushSummary } from './push/progress.js';
import type { PushBlob } from './push/push-blob.js';
import { pushBlobs } from './push/push-blobs.js';
import { type PushOptions, type PushResult, pushImage } from './push/push-image.js';
import type { PushImageInput } from './push/validate-image.js';
import { normalizeRegistry, type Reference, toReference } from './reference.js';
import { Transport } from './transport/transport.js';

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

function source(s: BlobSource): BlobSource {
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
  pullImage(ref: string | Reference, options: PullOptions = {}): Promise<PulledImage> {
    return pullImage(this.#transport, this.#options, toReference(ref), options);
  }

  /** A manifest or index by tag or digest, verified, exact bytes. */
  fetchManifest(ref: string | Reference, options: RequestOptions = {}): Promise<RawDocument> {
    return fetchManifest(this.#transport, toReference(ref), this.#options.maxManifestBytes, options);
  }

  /** A manifest's descriptor by HEAD, or undefined when the registry does not have it. */
  headManifest(ref: string | Reference, options: RequestOptions = {}): Promise<Descriptor | undefined> {
    return headManifest(this.#transport, toReference(ref), options);
  }

  /** A blob as a stream verified against `descriptor` (digest and size) before its end. */
  fetchBlob(from: BlobSource, descriptor: Descriptor, options: RequestOptions = {}): Promise<Readable> {
    return openBlob(this.#transport, source(from), descriptor, options);
  }

  /** A small blob (a config) in memory, verified; at most `maxConfigBytes`. */
  fetchBlobBytes(
    from: BlobSource,
    descriptor: Descriptor,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    return fetchBlobBytes(this.#transport, source(from), descriptor, this.#options.maxConfigBytes, options);
  }

  /** HEAD a blob in a repository. */
  blobExists(
    at: BlobSource,
    descriptor: Pick<Descriptor, 'digest'>,
    options: RequestOptions = {},
  ): Promise<boolean> {
    const s = source(at);
    return blobExists(this.#transport, s, descriptor, [pullScope(s.repository)], options);
  }

  /**
   * Push an image to `target` (`registry/repository[:tag]`; a digest, if given, must be the root's).
   * Blobs first (skip existing, mount same-registry sources, upload or stream the rest), then child
   * manifests, then the root under every tag, or by digest when there is no tag.
   */
  pushImage(
    target: string | Reference,
    image: PushImageInput,
    options: PushOptions = {},
  ): Promise<PushResult> {
    const ref = toReference(target, { defaultTag: false });
    return pushImage(this.#transport, this.#options, ref, image, options);
  }

  /**
   * Push blobs into `target` without a manifest (push at build time): present ones are skipped,
   * same-registry sources mounted, the rest uploaded.
   */
  pushBlobs(
    target: BlobSource,
    blobs: readonly PushBlob[],
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
