import { realpath } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import {
  type AbortOptions,
  type BlobLocation,
  type BlobSource,
  canonicalJsonBytes,
  createVerifyStream,
  type Descriptor,
  type ImageGraph,
  type Index,
  MediaType,
  reachableDescriptors,
} from '@img/oci-spec';
import { blobPath, regularFileSize } from './blob-file.js';
import { LayoutError } from './errors.js';
import type { FileSink } from './sinks.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** containerd's name for an image in a layout's index.json (`ctr images import`). */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';
export const OCI_LAYOUT_FILE = Buffer.from('{"imageLayoutVersion":"1.0.0"}');

export interface WriteLayoutOptions extends AbortOptions {
  /** `org.opencontainers.image.ref.name` of the root in index.json (a tag such as `latest`). */
  readonly refName?: string;
  /** Full image name for containerd/docker importers (`io.containerd.image.name`). */
  readonly imageName?: string;
  /**
   * Write a layout without the layer blobs this image does not have (a shallow layout). By default
   * only blobs with known sources (pulled base layers) may be absent.
   */
  readonly allowMissingBlobs?: boolean;
  /** Layer digests to leave out on purpose (a consumer that already has them, e.g. `docker load`). */
  readonly omitLayers?: ReadonlySet<string>;
}

/** The index.json of a layout holding `root`. */
export function layoutIndex(root: Descriptor, options: WriteLayoutOptions): Buffer {
  const annotations: Record<string, string> = { ...(root.annotations ?? {}) };
  if (options.refName) annotations[REF_NAME_ANNOTATION] = options.refName;
  if (options.imageName) annotations[CONTAINERD_NAME_ANNOTATION] = options.imageName;
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      {
        mediaType: root.mediaType,
        digest: root.digest,
        size: root.size,
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        ...(root.platform ? { platform: root.platform } : {}),
      },
    ],
  };
  return canonicalJsonBytes(index, 'index');
}

/**
 * Write every blob reachable from the image into `sink` under `blobs/<alg>/<hex>`: documents from
 * memory; a layer that is a local file of the right size (`BlobSource.path`, e.g. one `img build` just
 * wrote) hard-linked where the sink can link, so its bytes are written once; other layers streamed
 * from their sources and verified against their descriptors.
 */
export async function writeBlobs(
  graph: ImageGraph,
  sink: FileSink,
  options: WriteLayoutOptions,
): Promise<void> {
  const { documents, layers } = reachableDescriptors(graph);
  const { signal } = options;
  const written = new Set<string>();
  for (const layer of layers) {
    signal?.throwIfAborted();
    if (written.has(layer.digest) || options.omitLayers?.has(layer.digest)) continue;
    const name = blobPath(layer.digest);
    const source = graph.blobs.get(layer.digest);
    if (!source) {
      if (options.allowMissingBlobs || graph.locations?.get(layer.digest)?.length) continue;
      throw new LayoutError(
        'IMG_LAYOUT_BLOB_MISSING',
        `layer ${layer.digest} is not available locally (a shallow base layer?); pull it with --layers or allow missing blobs`,
      );
    }
    written.add(layer.digest);
    if (source.path !== undefined && sink.linkFile) {
      // Link the file itself, not a symlink to it (a Bazel sandbox input is one).
      const real = await realpath(source.path);
      if ((await regularFileSize(real)) === layer.size && (await sink.linkFile(name, layer.size, real)))
        continue;
    }
    await sink.addFile(
      name,
      layer.size,
      await verifiedStream(source, layer, `layer ${layer.digest}`, signal),
    );
  }
  for (const d of documents) {
    if (written.has(d.digest)) continue;
    written.add(d.digest);
    const bytes = graph.documents.get(d.digest);
    if (bytes) {
      await sink.addFile(blobPath(d.digest), bytes.length, bytes);
      continue;
    }
    // A config that is not JSON (an artifact's) may be a blob like a layer.
    const source = graph.blobs.get(d.digest);
    if (!source) {
      throw new LayoutError(
        'IMG_LAYOUT_BLOB_MISSING',
        `config ${d.digest} (${d.mediaType}) is not in the image`,
      );
    }
    await sink.addFile(
      blobPath(d.digest),
      d.size,
      await verifiedStream(source, d, `config ${d.digest}`, signal),
    );
  }
}

/**
 * A source's bytes checked against `d` as they stream. pipeline() wires errors both ways, so the
 * sink sees a failure (or the abort, with its reason) as an error of the returned stream.
 */
async function verifiedStream(
  source: BlobSource,
  d: Descriptor,
  what: string,
  signal: AbortSignal | undefined,
): Promise<Readable> {
  const verified = createVerifyStream(d, what);
  pipeline(await source.open(signal ? { signal } : {}), verified, () => {});
  if (signal) {
    const abort = () => verified.destroy(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    verified.once('close', () => signal.removeEventListener('abort', abort));
  }
  return verified;
}

/** Beside a layout's blobs: where layers that may be absent can be fetched or mounted from. */
export const SOURCES_FILE = 'img-sources.json';

/** `{ "<digest>": [{ registry, repository }] }` for the reachable layers that have locations. */
function sourcesDocument(graph: ImageGraph): Buffer | undefined {
  if (!graph.locations?.size) return undefined;
  const out: Record<string, readonly BlobLocation[]> = {};
  for (const layer of reachableDescriptors(graph).layers) {
    const s = graph.locations.get(layer.digest);
    if (s?.length) out[layer.digest] = s;
  }
  return Object.keys(out).length ? canonicalJsonBytes(out) : undefined;
}

/** Write an OCI image layout (oci-layout, index.json, blobs) into `sink`, committing at the end. */
export async function writeOciLayout(
  graph: ImageGraph,
  sink: FileSink,
  options: WriteLayoutOptions = {},
): Promise<void> {
  try {
    await sink.addFile('oci-layout', OCI_LAYOUT_FILE.length, OCI_LAYOUT_FILE);
    await writeBlobs(graph, sink, options);
    const sources = sourcesDocument(graph);
    if (sources) await sink.addFile(SOURCES_FILE, sources.length, sources);
    const index = layoutIndex(graph.root, options);
    await sink.addFile('index.json', index.length, index);
    options.signal?.throwIfAborted();
    await sink.commit();
  } catch (err) {
    await sink.abort();
    throw options.signal?.aborted ? options.signal.reason : err;
  }
}

export function bytesStream(data: Uint8Array): Readable {
  return Readable.from([Buffer.from(data)]);
}
