import type { Readable } from 'node:stream';
import type { BlobLocation, BlobSource, Descriptor, Digest, ImageGraph } from '@img/oci-spec';
import { type ListOptions, listAll } from './api/listing.js';
import { checkCredentials, deleteManifest } from './api/manifests.js';
import { addToReferrersTag, listReferrers, type ReferrersList } from './api/referrers.js';
import { pullScope, pushScope } from './auth/scopes.js';
import { RegistryError } from './errors.js';
import { type RegistryClientOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { blobExists, fetchBlobBytes, openBlob, registryBlobSource } from './pull/blob.js';
import { fetchManifest, headManifest, type RawDocument } from './pull/manifest.js';
import { type PullOptions, type PullResult, pullImage } from './pull/pull-image.js';
import type { BlobToPush } from './push/check-image.js';
import type { PushSummary } from './push/progress.js';
import { pushBlobs } from './push/push-blobs.js';
import { type PushOptions, type PushResult, pushImage } from './push/push-image.js';
import { putManifest as putManifestAt } from './push/push-manifest.js';
import {
  formatReference,
  manifestReference,
  normalizeRegistry,
  type Reference,
  toReference,
} from './reference.js';
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

  /** Every tag of a repository (`/tags/list`, all pages), in the registry's order. */
  listTags(repository: string | Reference, options: ListOptions = {}): Promise<string[]> {
    const r = toReference(repository, { defaultTag: false });
    return this.#within(`list tags of ${r.registry}/${r.repository}`, options.signal, (signal) =>
      listAll(
        this.#transport,
        {
          url: this.#transport.endpoints(r.registry).tags(r.repository),
          registry: r.registry,
          repository: r.repository,
          scopes: [pullScope(r.repository)],
          field: 'tags',
          what: `GET tags ${r.registry}/${r.repository}`,
        },
        { ...options, signal },
      ),
    );
  }

  /** Every repository of a registry (`/_catalog`, all pages); many registries refuse it. */
  catalog(registry: string, options: ListOptions = {}): Promise<string[]> {
    const r = normalizeRegistry(registry);
    return this.#within(`catalog of ${r}`, options.signal, (signal) =>
      listAll(
        this.#transport,
        {
          url: new URL(`${this.#transport.endpoints(r).base}/v2/_catalog`),
          registry: r,
          scopes: ['registry:catalog:*'],
          field: 'repositories',
          what: `GET catalog ${r}`,
        },
        { ...options, signal },
      ),
    );
  }

  /**
   * Put a manifest or index (exact bytes) under `ref`'s tag, or its digest when it has none. The
   * blobs and child manifests it references must already be in the repository.
   */
  putManifest(ref: string | Reference, doc: RawDocument, options: RequestOptions = {}): Promise<void> {
    const r = toReference(ref, { defaultTag: false });
    const reference = r.tag ?? doc.descriptor.digest;
    return this.#within(`PUT manifest ${formatReference(r)}`, options.signal, (signal) =>
      putManifestAt(this.#transport, r, doc, reference, {
        scopes: [pushScope(r.repository)],
        ...(signal ? { signal } : {}),
      }),
    );
  }

  /** Delete what `ref` names: a manifest by digest, or a tag where the registry supports it. */
  deleteManifest(ref: string | Reference, options: RequestOptions = {}): Promise<void> {
    const r = toReference(ref, { defaultTag: false });
    manifestReference(r);
    return this.#within(`DELETE manifest ${formatReference(r)}`, options.signal, (signal) =>
      deleteManifest(this.#transport, r, { signal }),
    );
  }

  /**
   * The referrers of `ref`'s digest in its repository: the referrers API where the registry has it,
   * else the referrers tag schema's index (`sha256-<hex>`); `via` says which.
   */
  referrers(ref: string | Reference, options: RequestOptions = {}): Promise<ReferrersList> {
    const r = toReference(ref, { defaultTag: false });
    const subject = r.digest;
    if (!subject) {
      throw new RegistryError(
        'IMG_REGISTRY_INVALID_REFERENCE',
        `referrers of ${formatReference(r)}: the reference needs a digest`,
      );
    }
    return this.#within(`referrers of ${formatReference(r)}`, options.signal, (signal) =>
      listReferrers(this.#transport, r, subject, this.#options.maxManifestBytes, { signal }),
    );
  }

  /**
   * After pushing `referrer` (a manifest whose subject is `subject`) to a registry without the
   * referrers API: add it to the subject's referrers tag index. True when the index changed.
   */
  addReferrerToTagIndex(
    at: BlobLocation,
    subject: Digest,
    referrer: Descriptor,
    options: RequestOptions = {},
  ): Promise<boolean> {
    const s = source(at);
    return this.#within(
      `referrers tag of ${s.registry}/${s.repository}@${subject}`,
      options.signal,
      (signal) =>
        addToReferrersTag(this.#transport, s, subject, referrer, this.#options.maxManifestBytes, { signal }),
    );
  }

  /** Check that the registry accepts our credentials for it (GET /v2/, the token flow where asked). */
  checkCredentials(registry: string, options: RequestOptions = {}): Promise<void> {
    const r = normalizeRegistry(registry);
    return this.#within(`log in to ${r}`, options.signal, (signal) =>
      checkCredentials(this.#transport, r, { signal }),
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
