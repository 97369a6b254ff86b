import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  type BlobLocation,
  type BlobSource,
  type Descriptor,
  type Digest,
  type ImageGraph,
  isIndex,
  isManifest,
  listManifests,
  type Manifest,
  reachableDescriptors,
} from '@img/oci-spec';
import {
  type PullOptions,
  type PullResult,
  type PushOptions,
  type PushResult,
  type RawDocument,
  type Reference,
  RegistryClient,
} from '../../src/index.js';

/**
 * The tests describe images as lists (root and child documents as bytes, blobs with an opener and/or
 * the repositories holding them); the client takes and returns the image model. TestClient converts
 * both ways, so the tests assert exactly what they asserted before the model existed.
 */
export interface TestBlob {
  readonly descriptor: Descriptor;
  open?(): Promise<Readable>;
  readonly sources?: readonly BlobLocation[];
}

export interface PushInput {
  readonly root: RawDocument;
  readonly manifests?: readonly RawDocument[];
  readonly blobs: readonly TestBlob[];
}

export interface PulledManifest extends RawDocument {
  readonly manifest: Manifest;
  readonly config: RawDocument;
}

export interface PulledImage {
  readonly source: BlobLocation;
  readonly reference: Reference;
  readonly root: RawDocument;
  readonly kind: 'index' | 'manifest';
  readonly manifests: readonly RawDocument[];
  readonly images: readonly PulledManifest[];
  readonly stats: PullResult['stats'];
  readonly graph: PullResult;
}

export function blobFromBytes(descriptor: Descriptor, bytes: Uint8Array): TestBlob {
  return {
    descriptor,
    open: async () => Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]),
  };
}

/** A blob read from a file on every open, as a plain fs.ReadStream (what a layer file source gives). */
export function blobFromFile(
  descriptor: Descriptor,
  path: string,
  sources?: readonly BlobLocation[],
): TestBlob {
  return {
    descriptor,
    open: async () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
    ...(sources && { sources }),
  };
}

export function blobFromSources(descriptor: Descriptor, sources: readonly BlobLocation[]): TestBlob {
  return { descriptor, sources };
}

/** The image model of a list-shaped test image (a blob without opener or location stays unopenable). */
export function graphOf(input: PushInput | ImageGraph): ImageGraph {
  if (!('descriptor' in input.root)) return input as ImageGraph;
  const { root, manifests = [], blobs: list } = input as PushInput;
  const documents = new Map<Digest, Uint8Array>();
  for (const d of [root, ...manifests]) documents.set(d.descriptor.digest, d.bytes);
  const blobs = new Map<Digest, BlobSource>();
  const locations = new Map<Digest, readonly BlobLocation[]>();
  for (const b of list) {
    const digest = b.descriptor.digest;
    if (b.sources?.length && !locations.has(digest)) locations.set(digest, b.sources);
    if (blobs.has(digest) || (!b.open && b.sources?.length)) continue;
    const open = b.open;
    blobs.set(digest, {
      descriptor: b.descriptor,
      open: open ? () => open() : () => Promise.reject(new Error(`test blob ${digest} has no bytes`)),
    });
  }
  return { root: root.descriptor, documents, blobs, locations };
}

/** A pull result as lists: the root and child documents, each image with its config. */
export function pulledView(graph: PullResult): PulledImage {
  const bytesOf = (d: Descriptor) => graph.documents.get(d.digest)!;
  const images = listManifests(graph).map((e) => ({
    descriptor: e.descriptor,
    bytes: bytesOf(e.descriptor),
    manifest: e.manifest,
    config: { descriptor: e.manifest.config, bytes: bytesOf(e.manifest.config) },
  }));
  const manifests = reachableDescriptors(graph)
    .documents.filter(
      (d) => (isIndex(d.mediaType) || isManifest(d.mediaType)) && d.digest !== graph.resolved.digest,
    )
    .map((d) => ({ descriptor: d, bytes: bytesOf(d) }));
  return {
    source: { registry: graph.reference.registry, repository: graph.reference.repository },
    reference: graph.reference,
    root: { descriptor: graph.resolved, bytes: bytesOf(graph.resolved) },
    kind: isIndex(graph.resolved.mediaType) ? 'index' : 'manifest',
    manifests,
    images,
    stats: graph.stats,
    graph,
  };
}

export class TestClient extends RegistryClient {
  override pushImage(
    target: string | Reference,
    image: PushInput | ImageGraph,
    options: PushOptions = {},
  ): Promise<PushResult> {
    return super.pushImage(target, graphOf(image), options);
  }

  // @ts-expect-error the tests read pull results as lists (see pulledView)
  override async pullImage(ref: string | Reference, options: PullOptions = {}): Promise<PulledImage> {
    return pulledView(await super.pullImage(ref, options));
  }
}
