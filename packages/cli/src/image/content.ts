import type { AssembledImage, BuiltIndex } from '@img/image-assembly';
import { fileBlobSource } from '@img/oci-layout';
import type { BlobLocation, BlobSource, Descriptor, Digest, ImageGraph } from '@img/oci-spec';

/** Collects the documents, blobs and blob locations of images being built into one ImageGraph. */
export class GraphCollector {
  readonly documents = new Map<Digest, Uint8Array>();
  readonly blobs = new Map<Digest, BlobSource>();
  readonly locations = new Map<Digest, readonly BlobLocation[]>();

  /** An assembled image's documents and locations (its blobs are added by the caller). */
  addGraph(graph: ImageGraph): void {
    for (const [digest, bytes] of graph.documents) this.documents.set(digest, bytes);
    for (const [digest, s] of graph.blobs) if (!this.blobs.has(digest)) this.blobs.set(digest, s);
    for (const [digest, l] of graph.locations ?? [])
      if (!this.locations.has(digest)) this.locations.set(digest, l);
  }

  addImage(image: AssembledImage): void {
    this.addGraph(image);
  }

  addIndex(index: BuiltIndex): void {
    this.documents.set(index.descriptor.digest, index.indexBytes);
  }

  /** A layer file this build wrote: it holds exactly the descriptor's bytes, so writers may link it. */
  addBlobFile(descriptor: Descriptor, path: string): void {
    this.blobs.set(descriptor.digest, fileBlobSource(descriptor, path));
  }

  graph(root: Descriptor): ImageGraph {
    return { root, documents: this.documents, blobs: this.blobs, locations: this.locations };
  }
}
