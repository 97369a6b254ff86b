import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  canonicalJsonBytes,
  type Descriptor,
  type ImageConfig,
  type Index,
  type Manifest,
  MediaType,
  type Platform,
  sha256Digest,
} from '@img/oci-spec';
import { tarFile } from '@img/test-utils';
import type { RawDocument } from '../../src/index.js';
import { blobFromBytes, type TestBlob as PushBlob, type PushInput as PushImageInput } from './client.js';

/** A test layer with its bytes and diff_id. */
export interface TestLayer {
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
  readonly diffId: ReturnType<typeof sha256Digest>;
}

/** A gzipped tar holding one file of `size` random bytes (crane validate reads layers as tars). */
export function randomLayer(size = 4096): TestLayer {
  const raw = tarFile([{ name: `data-${randomBytes(4).toString('hex')}.bin`, content: randomBytes(size) }]);
  const bytes = gzipSync(raw, { level: 1 });
  return {
    descriptor: { mediaType: MediaType.OciLayerGzip, digest: sha256Digest(bytes), size: bytes.length },
    bytes,
    diffId: sha256Digest(raw),
  };
}

export interface TestImage {
  readonly input: PushImageInput;
  readonly manifest: RawDocument;
  readonly config: RawDocument;
  readonly layers: readonly TestLayer[];
}

function doc(mediaType: string, bytes: Buffer, platform?: Platform): RawDocument & { bytes: Buffer } {
  return {
    descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length, ...(platform && { platform }) },
    bytes,
  };
}

/** A single-platform OCI image; `layers` may be shared with other images (base layers). */
export function buildImage(
  layers: readonly TestLayer[],
  platform: Platform = { os: 'linux', architecture: 'amd64' },
  label = randomBytes(4).toString('hex'),
): TestImage {
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant && { variant: platform.variant }),
    config: { Labels: { 'test.label': label } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
  const configDoc = doc(MediaType.OciConfig, canonicalJsonBytes(config, 'config'));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: configDoc.descriptor,
    layers: layers.map((l) => l.descriptor),
  };
  const manifestDoc = doc(MediaType.OciManifest, canonicalJsonBytes(manifest, 'manifest'), platform);
  const blobs: PushBlob[] = [
    blobFromBytes(configDoc.descriptor, configDoc.bytes),
    ...layers.map((l) => blobFromBytes(l.descriptor, l.bytes)),
  ];
  const root = doc(MediaType.OciManifest, manifestDoc.bytes as Buffer);
  return { input: { root, blobs }, manifest: manifestDoc, config: configDoc, layers };
}

/** An OCI index over several images (their manifests become children). */
export function buildIndex(images: readonly TestImage[]): PushImageInput & { index: Index } {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: images.map((i) => i.manifest.descriptor),
  };
  const root = doc(MediaType.OciIndex, canonicalJsonBytes(index, 'index'));
  return {
    root,
    manifests: images.map((i) => i.manifest),
    blobs: images.flatMap((i) => i.input.blobs),
    index,
  };
}
