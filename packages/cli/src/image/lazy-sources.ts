import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  type BlobLocation,
  type BlobSource,
  createVerifyStream,
  type Descriptor,
  type Digest,
  digestHex,
  firstAvailableSource,
  type ImageGraph,
  isDistributable,
  reachableDescriptors,
  skipBytes,
  type WalkOptions,
} from '@img/oci-spec';
import { casBlobSource, type RemoteCache } from '@img/remote-cache';
import { CliError } from '../util/errors.js';

/**
 * Where a lazy push or load looks for a blob it does not have at hand, in this order (rules_img's
 * lazy strategies): a local file, Bazel's disk cache, the remote cache, the blob's registry.
 */
export interface LazyBlobPlaces {
  /** Files that may hold a blob: outputs a Bazel build may have left on disk (never downloaded). */
  readonly files?: ReadonlyMap<Digest, string>;
  /** Bazel's disk cache directory (`$IMG_DISK_CACHE`): a blob is `cas/<first two hex>/<hex>` there. */
  readonly diskCache?: string;
  /** The remote cache (Bazel's CAS), and how messages name it (its endpoint and instance). */
  readonly cache?: { readonly client: RemoteCache; readonly name: string };
  /** A blob of a registry repository (a pulled base layer's origin). */
  readonly registry?: (location: BlobLocation, descriptor: Descriptor) => BlobSource;
  /** What produced each blob (a Bazel target), named when no place has it. */
  readonly producers?: ReadonlyMap<Digest, string>;
}

/** A place a blob may be, with the name messages give it. */
interface Candidate {
  readonly place: string;
  readonly source: BlobSource;
}

/** `<dir>/cas/<xx>/<hex>`: where Bazel's disk cache keeps a blob. */
export function diskCachePath(dir: string, digest: Digest): string {
  const hex = digestHex(digest);
  return join(dir, 'cas', hex.slice(0, 2), hex);
}

/**
 * A file that may hold the blob (it is not one the caller vouches for: a stale build output, a disk
 * cache entry): refused at open() when absent or of another size, so the next place is tried, and
 * verified against the digest before its end. Read from the start even with `offset`, to verify.
 */
export function unvouchedFileSource(descriptor: Descriptor, path: string): BlobSource {
  return {
    descriptor,
    async open(options = {}) {
      const st = await stat(path);
      if (!st.isFile()) throw new CliError('IMG_CLI_INVALID_INPUT', `${path}: not a regular file`);
      if (st.size !== descriptor.size) {
        throw new CliError('IMG_CLI_INVALID_INPUT', `${path}: ${st.size} bytes, not ${descriptor.size}`);
      }
      const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
      const verified: Readable = file.pipe(createVerifyStream(descriptor, path));
      file.on('error', (e) => verified.destroy(e));
      options.signal?.addEventListener('abort', () => verified.destroy(options.signal?.reason), {
        once: true,
      });
      return skipBytes(verified, options.offset ?? 0);
    },
  };
}

function candidates(
  descriptor: Descriptor,
  places: LazyBlobPlaces,
  locations: readonly BlobLocation[],
  atHand: BlobSource | undefined,
): Candidate[] {
  const out: Candidate[] = [];
  if (atHand) out.push({ place: 'the image', source: atHand });
  const file = places.files?.get(descriptor.digest);
  if (file) out.push({ place: `local file ${file}`, source: unvouchedFileSource(descriptor, file) });
  if (places.diskCache) {
    const path = diskCachePath(places.diskCache, descriptor.digest);
    out.push({ place: `disk cache ${path}`, source: unvouchedFileSource(descriptor, path) });
  }
  if (places.cache) {
    out.push({
      place: `remote cache ${places.cache.name}`,
      source: casBlobSource(places.cache.client, descriptor),
    });
  }
  const registry = places.registry;
  if (registry) {
    for (const l of locations) {
      out.push({ place: `registry ${l.registry}/${l.repository}`, source: registry(l, descriptor) });
    }
  }
  return out;
}

/** Why a place did not have the blob, in a few words. */
function reason(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent';
  if (code === 'IMG_REMOTE_CACHE_NOT_FOUND') return 'not found (evicted?)';
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 200 ? `${message.slice(0, 200)}...` : message;
}

/** What produced a blob, for messages: ` (made by //app:layer)` or nothing. */
function producedBy(digest: Digest, places: LazyBlobPlaces): string {
  const producer = places.producers?.get(digest);
  return producer ? ` (made by ${producer})` : '';
}

/** The way out when a blob is nowhere: the build keeps its outputs, or the strategy carries every blob. */
export const LAZY_REMEDIES =
  'rebuild with --remote_download_outputs=toplevel (Bazel then keeps the blobs on disk), or use the eager strategy (--@img_rules//img/settings:push_strategy=eager / load_strategy=eager, img --strategy eager)';

function unavailable(
  blobs: readonly { digest: Digest; tried: string }[],
  places: LazyBlobPlaces,
  cause?: unknown,
): CliError {
  const list = blobs.map((b) => `${b.digest}${producedBy(b.digest, places)} [${b.tried}]`).join('; ');
  const what =
    blobs.length === 1 ? `blob ${list} is` : `${blobs.length} blobs are in none of their places: ${list};`;
  const message =
    blobs.length === 1 ? `${what} in none of its places; ${LAZY_REMEDIES}` : `${what} ${LAZY_REMEDIES}`;
  return new CliError('IMG_CLI_BLOB_UNAVAILABLE', message, cause === undefined ? {} : { cause });
}

/**
 * The blob from the first of its places that opens (the image model's one resolver,
 * firstAvailableSource); when none does, one error naming the blob, what produced it, each place
 * with why it failed, and the remedies.
 */
export function lazyBlobSource(
  descriptor: Descriptor,
  places: LazyBlobPlaces,
  locations: readonly BlobLocation[] = [],
  atHand?: BlobSource,
): BlobSource {
  const list = candidates(descriptor, places, locations, atHand);
  return {
    descriptor,
    async open(options = {}) {
      const failures: string[] = [];
      const tracked = list.map(
        (c): BlobSource => ({
          descriptor,
          open: (o) =>
            c.source.open(o).catch((err: unknown) => {
              failures.push(`${c.place}: ${reason(err)}`);
              throw err;
            }),
        }),
      );
      try {
        return await firstAvailableSource(descriptor, tracked).open(options);
      } catch (err) {
        if (options.signal?.aborted) throw err;
        const tried = failures.length > 0 ? failures.join(', ') : 'no place to look: no remote cache given';
        throw unavailable([{ digest: descriptor.digest, tried }], places, err);
      }
    },
  };
}

/**
 * The graph with a lazy source for every distributable layer (the ones it has at hand stay first):
 * opened only when a push or load finds the registry or daemon lacks the blob.
 */
export function withLazyBlobs(
  graph: ImageGraph,
  places: LazyBlobPlaces,
  options: WalkOptions = {},
): ImageGraph {
  const blobs = new Map<Digest, BlobSource>(graph.blobs);
  for (const layer of reachableDescriptors(graph, options).layers) {
    if (!isDistributable(layer.mediaType)) continue;
    const locations = graph.locations?.get(layer.digest) ?? [];
    blobs.set(layer.digest, lazyBlobSource(layer, places, locations, graph.blobs.get(layer.digest)));
  }
  return { ...graph, blobs };
}

/** Undefined when `path` is a regular file of `size` bytes, else why not (for messages). */
async function fileProblem(path: string, size: number): Promise<string | undefined> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return 'absent';
  if (!st.isFile()) return 'not a regular file';
  return st.size === size ? undefined : `${st.size} bytes, not ${size}`;
}

/**
 * Before a lazy push writes anything: every distributable layer must be somewhere - at hand, a local
 * file or disk cache entry of the right size, in the remote cache (one FindMissingBlobs for all),
 * in a registry it came from, or already at the destination (`present`, a HEAD). Throws
 * IMG_CLI_BLOB_UNAVAILABLE naming every blob that is nowhere, what produced it, each place with why
 * not, and the remedies: an evicted blob fails the push before any upload and before the manifest.
 */
export async function checkLazyBlobs(
  graph: ImageGraph,
  places: LazyBlobPlaces,
  present: (descriptor: Descriptor) => Promise<boolean>,
  options: WalkOptions & { readonly signal?: AbortSignal } = {},
): Promise<void> {
  const layers = reachableDescriptors(graph, options).layers.filter((l) => isDistributable(l.mediaType));
  const tried = new Map<Digest, string[]>();
  const unresolved: Descriptor[] = [];
  for (const layer of layers) {
    if (graph.blobs.has(layer.digest)) continue;
    const why: string[] = [];
    const paths = [
      ['local file', places.files?.get(layer.digest)],
      ['disk cache', places.diskCache && diskCachePath(places.diskCache, layer.digest)],
    ] as const;
    let found = false;
    for (const [place, path] of paths) {
      if (!path || found) continue;
      const problem = await fileProblem(path, layer.size);
      if (problem === undefined) found = true;
      else why.push(`${place} ${path}: ${problem}`);
    }
    if (found) continue;
    tried.set(layer.digest, why);
    unresolved.push(layer);
  }
  let notCached = unresolved;
  if (places.cache && unresolved.length > 0) {
    notCached = await places.cache.client.findMissingBlobs(unresolved, {
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  const nowhere: { digest: Digest; tried: string }[] = [];
  for (const layer of notCached) {
    if ((graph.locations?.get(layer.digest)?.length ?? 0) > 0 && places.registry) continue;
    if (await present(layer).catch(() => false)) continue;
    const why = tried.get(layer.digest) ?? [];
    why.push(
      places.cache ? `remote cache ${places.cache.name}: not found (evicted?)` : 'no remote cache given',
    );
    why.push('not at the destination');
    nowhere.push({ digest: layer.digest, tried: why.join(', ') });
  }
  if (nowhere.length > 0) throw unavailable(nowhere, places);
}
