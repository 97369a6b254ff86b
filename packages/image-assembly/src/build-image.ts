import {
  assertValid,
  canonicalJsonBytes,
  configViolations,
  type Descriptor,
  formatPlatform,
  type History,
  type ImageConfig,
  type LayerMetadata,
  type Manifest,
  MediaType,
  manifestViolations,
  normalizePlatform,
  type Platform,
  platformMatchRank,
  sha256Digest,
} from '@img/oci-spec';
import { type BaseImage, baseLayers } from './base-image.js';
import { applyConfigSettings, type ConfigSettings, mergeConfigFragment } from './container-config.js';
import { AssemblyError } from './errors.js';

export const BASE_DIGEST_ANNOTATION = 'org.opencontainers.image.base.digest';
export const BASE_NAME_ANNOTATION = 'org.opencontainers.image.base.name';
/** History `created` when neither the layer nor the options give one: the Unix epoch. */
export const DEFAULT_HISTORY_CREATED = '1970-01-01T00:00:00Z';

export interface BuildImageOptions extends ConfigSettings {
  readonly platform: Platform;
  readonly base?: BaseImage;
  /** Our own layers, on top of the base's, in order. */
  readonly layers: readonly LayerMetadata[];
  /** A partial image config merged over the base before the settings above. */
  readonly configFragment?: Record<string, unknown>;
  /** Manifest annotations (override the automatic base annotations). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Config `created` (RFC 3339); omitted when undefined, for reproducible images. */
  readonly created?: string;
  /** `created` of history entries that have none (default DEFAULT_HISTORY_CREATED). */
  readonly historyCreated?: string;
  /** `created_by` of history entries for layers that carry no history (default `img`). */
  readonly createdBy?: string;
  /** The manifest's `subject`: the image or index this one refers to (referrers API). */
  readonly subject?: Descriptor;
  /** The manifest's `artifactType`. */
  readonly artifactType?: string;
}

/** An assembled image: documents as canonical bytes plus their descriptors. */
export interface BuiltImage {
  readonly config: ImageConfig;
  readonly configBytes: Buffer;
  readonly manifest: Manifest;
  readonly manifestBytes: Buffer;
  /** Manifest descriptor with platform, as an index or a layout refers to it. */
  readonly descriptor: Descriptor;
  /** Every layer of the image (base first) with its metadata. */
  readonly layers: readonly LayerMetadata[];
}

/** A subject descriptor keeps only what identifies the document (no platform, no annotations). */
export function subjectDescriptor(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

/** Assemble config and manifest from layer metadata only: never reads a blob. */
export function buildImage(options: BuildImageOptions): BuiltImage {
  const platform = normalizePlatform(options.platform);
  const { base } = options;
  let config: Partial<ImageConfig> = {};
  if (base) {
    const bp: Platform = {
      os: base.config.os,
      architecture: base.config.architecture,
      ...(base.config.variant ? { variant: base.config.variant } : {}),
    };
    if (platformMatchRank(platform, bp) === undefined) {
      throw new AssemblyError(
        'IMG_ASSEMBLY_PLATFORM_MISMATCH',
        `base image ${base.name ?? base.descriptor.digest} is ${formatPlatform(bp)}, not ${formatPlatform(platform)}`,
      );
    }
    const { created: _c, author: _a, history: _h, rootfs: _r, ...inherited } = base.config;
    config = inherited;
  }
  if (options.configFragment) config = mergeConfigFragment(config, options.configFragment, 'config fragment');
  const container = applyConfigSettings(config.config, options);

  const layers = [...(base ? baseLayers(base) : []), ...options.layers];
  const historyCreated = options.historyCreated ?? DEFAULT_HISTORY_CREATED;
  const history: History[] = layers.flatMap((l) => {
    const entries = l.history?.length ? l.history : [{ created_by: options.createdBy ?? 'img' }];
    return entries.map((h) => ({ ...h, created: h.created ?? historyCreated }));
  });

  const image: ImageConfig = {
    ...config,
    ...(options.created !== undefined ? { created: options.created } : {}),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform['os.version'] ? { 'os.version': platform['os.version'] } : {}),
    ...(platform['os.features'] ? { 'os.features': platform['os.features'] } : {}),
    ...(platform.variant ? { variant: platform.variant } : { variant: undefined }),
    config: container,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diff_id) },
    ...(history.length > 0 ? { history } : {}),
  };
  if (options.created === undefined) delete (image as { created?: string }).created;
  assertValid(configViolations(image), 'image config');
  const configBytes = canonicalJsonBytes(image, 'config');

  const annotations: Record<string, string> = {};
  if (base) {
    annotations[BASE_DIGEST_ANNOTATION] = base.descriptor.digest;
    if (base.name) annotations[BASE_NAME_ANNOTATION] = base.name;
  }
  Object.assign(annotations, options.annotations ?? {});
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: { mediaType: MediaType.OciConfig, digest: sha256Digest(configBytes), size: configBytes.length },
    layers: layers.map((l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      ...(l.annotations && Object.keys(l.annotations).length > 0 ? { annotations: l.annotations } : {}),
    })),
    ...(options.subject ? { subject: subjectDescriptor(options.subject) } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  assertValid(manifestViolations(manifest), 'image manifest');
  const manifestBytes = canonicalJsonBytes(manifest, 'manifest');
  const descriptor: Descriptor = {
    mediaType: MediaType.OciManifest,
    digest: sha256Digest(manifestBytes),
    size: manifestBytes.length,
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    platform,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
  };
  return { config: image, configBytes, manifest, manifestBytes, descriptor, layers };
}
