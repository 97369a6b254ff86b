import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type AssembledImage as BuiltImage, buildImage, buildIndex } from '@img/image-assembly';
import { type LayerEntry, writeLayerToFile } from '@img/layer-writer';
import {
  type BlobSource as BlobHandle,
  type Descriptor,
  type Digest,
  type ImageGraph as ImageContent,
  type LayerCompression,
  MediaType,
  parsePlatform,
  sha256Digest,
} from '@img/oci-spec';

export const BUSYBOX = '/bin/busybox';

/** The busybox layer: /bin/busybox plus sh and echo symlinks. */
export const busyboxEntries: LayerEntry[] = [
  { type: 'file', path: '/bin/busybox', source: BUSYBOX },
  { type: 'symlink', path: '/bin/sh', target: 'busybox' },
  { type: 'symlink', path: '/bin/echo', target: 'busybox' },
];

export interface TestImageSpec {
  readonly layers: readonly (readonly LayerEntry[])[];
  readonly platform?: string;
  readonly cmd?: string[];
  readonly compression?: LayerCompression;
  /** Write a wrong diff_id into the config (a runtime that checks it must refuse the image). */
  readonly wrongDiffIds?: boolean;
}

/** Collects the blobs and documents of images built for a test into one ImageContent. */
export class TestContent {
  readonly documents = new Map<Digest, Uint8Array>();
  readonly blobs = new Map<Digest, BlobHandle>();
  #n = 0;
  constructor(readonly dir: string) {}

  async image(spec: TestImageSpec): Promise<BuiltImage> {
    await mkdir(this.dir, { recursive: true });
    const layers = [];
    for (const entries of spec.layers) {
      const path = join(this.dir, `layer-${this.#n++}.blob`);
      const metadata = await writeLayerToFile({ entries }, path, { compression: spec.compression ?? 'gzip' });
      this.blobs.set(metadata.digest, { descriptor: metadata, open: async () => createReadStream(path) });
      layers.push(
        spec.wrongDiffIds ? { ...metadata, diff_id: sha256Digest(`not ${metadata.diff_id}`) } : metadata,
      );
    }
    const image = buildImage({
      platform: parsePlatform(spec.platform ?? 'linux/amd64'),
      layers,
      ...(spec.cmd ? { cmd: spec.cmd } : {}),
    });
    this.documents.set(image.manifest.config.digest, image.configBytes);
    this.documents.set(image.descriptor.digest, image.manifestBytes);
    return image;
  }

  /** An image whose one layer is not a tar at all (its digest and size are right). */
  garbageImage(): BuiltImage {
    const bytes = Buffer.from('this is not a gzip stream');
    const layer = {
      mediaType: MediaType.OciLayerGzip,
      digest: sha256Digest(bytes),
      size: bytes.length,
      diff_id: sha256Digest('never decompressed'),
    };
    this.blobs.set(layer.digest, { descriptor: layer, open: async () => Readable.from([bytes]) });
    const image = buildImage({ platform: parsePlatform('linux/amd64'), layers: [layer] });
    this.documents.set(image.manifest.config.digest, image.configBytes);
    this.documents.set(image.descriptor.digest, image.manifestBytes);
    return image;
  }

  index(images: readonly BuiltImage[]): Descriptor {
    const index = buildIndex(images.map((i) => i.descriptor));
    this.documents.set(index.descriptor.digest, index.indexBytes);
    return index.descriptor;
  }

  content(root: Descriptor): ImageContent {
    return { root, documents: this.documents, blobs: this.blobs };
  }
}
