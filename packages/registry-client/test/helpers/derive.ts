import {
  canonicalJsonBytes,
  type ImageConfig,
  type Manifest,
  MediaType,
  parseJson,
  sha256Digest,
} from '@img/oci-spec';
import type { RawDocument } from '../../src/index.js';
import {
  blobFromBytes,
  blobFromSources,
  type PulledImage,
  type PulledManifest,
  type PushInput as PushImageInput,
} from './client.js';
import type { TestLayer } from './images.js';

/** A new image on top of a pulled base: the base layers by reference only (sources), plus `layer`. */
export function deriveImage(
  base: PulledImage,
  image: PulledManifest,
  layer: TestLayer,
): PushImageInput & { manifest: RawDocument } {
  const baseConfig = parseJson(image.config.bytes, 'base config') as ImageConfig;
  const config: ImageConfig = {
    ...baseConfig,
    rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, layer.diffId] },
  };
  const configBytes = canonicalJsonBytes(config, 'config');
  const configDescriptor = {
    mediaType: MediaType.OciConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: configDescriptor,
    layers: [...image.manifest.layers, layer.descriptor],
  };
  const bytes = canonicalJsonBytes(manifest, 'manifest');
  const root: RawDocument = {
    descriptor: { mediaType: MediaType.OciManifest, digest: sha256Digest(bytes), size: bytes.length },
    bytes,
  };
  return {
    root,
    manifest: {
      descriptor: {
        ...root.descriptor,
        ...(image.descriptor.platform && { platform: image.descriptor.platform }),
      },
      bytes,
    },
    blobs: [
      blobFromBytes(configDescriptor, configBytes),
      ...image.manifest.layers.map((l) => blobFromSources(l, [base.source])),
      blobFromBytes(layer.descriptor, layer.bytes),
    ],
  };
}
