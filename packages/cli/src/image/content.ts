import { createReadStream } from 'node:fs';
import type { BuiltImage, BuiltIndex } from '@img/image-assembly';
import type { BlobHandle, ImageContent } from '@img/oci-layout';
import type { BlobSource, Descriptor } from '@img/oci-spec';

/** Collects the documents and blobs of images being built into one ImageContent. */
export class ContentCollector {
  readonly documents = new Map<string, Uint8Array>();
  readonly blobs = new Map<string, BlobHandle>();
  readonly sources = new Map<string, readonly BlobSource[]>();

  addImage(image: BuiltImage): void {
    this.documents.set(image.manifest.config.digest, image.configBytes);
    this.documents.set(image.descriptor.digest, image.manifestBytes);
  }

  addIndex(index: BuiltIndex): void {
    this.documents.set(index.descriptor.digest, index.indexBytes);
  }

  addBlobFile(descriptor: Descriptor, path: string): void {
    this.blobs.set(descriptor.digest, { descriptor, open: async () => createReadStream(path) });
  }

  addBlobHandles(handles: ReadonlyMap<string, BlobHandle>): void {
    for (const [digest, h] of handles) if (!this.blobs.has(digest)) this.blobs.set(digest, h);
  }

  addSources(sources: ReadonlyMap<string, readonly BlobSource[]>): void {
    for (const [digest, s] of sources) if (!this.sources.has(digest)) this.sources.set(digest, s);
  }

  content(root: Descriptor): ImageContent {
    return { root, documents: this.documents, blobs: this.blobs, sources: this.sources };
  }
}
