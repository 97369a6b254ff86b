import type { Digest } from './digest.js';

/** A registry repository that holds a blob: where a blob absent locally can be mounted or fetched from. */
export interface BlobLocation {
  readonly registry: string;
  readonly repository: string;
}

/** https://github.com/opencontainers/image-spec/blob/main/image-index.md#image-index-property-descriptions */
export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
  readonly variant?: string;
  readonly features?: readonly string[];
}

/** https://github.com/opencontainers/image-spec/blob/main/descriptor.md */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly data?: string;
  readonly platform?: Platform;
  readonly artifactType?: string;
}

/** https://github.com/opencontainers/image-spec/blob/main/manifest.md */
export interface Manifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** https://github.com/opencontainers/image-spec/blob/main/image-index.md */
export interface Index {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The `config` member of an image config: https://github.com/opencontainers/image-spec/blob/main/config.md */
export interface ContainerConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly ArgsEscaped?: boolean;
  readonly [extra: string]: unknown;
}

export interface History {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

export interface RootFS {
  readonly type: 'layers';
  readonly diff_ids: readonly Digest[];
}

/** https://github.com/opencontainers/image-spec/blob/main/config.md */
export interface ImageConfig {
  readonly created?: string;
  readonly author?: string;
  readonly architecture: string;
  readonly os: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
  readonly variant?: string;
  readonly config?: ContainerConfig;
  readonly rootfs: RootFS;
  readonly history?: readonly History[];
  readonly [extra: string]: unknown;
}

/** The `oci-layout` file of an image layout. */
export interface ImageLayoutHeader {
  readonly imageLayoutVersion: '1.0.0';
}

/**
 * The layer metadata JSON: written by `img layer`, read by `img manifest`, push and load.
 * A stable contract: changing it is a major version bump.
 */
export interface LayerMetadata {
  readonly diff_id: Digest;
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly uncompressed_size?: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly history?: readonly History[];
  /** Registries/repositories holding this blob (pulled base layers). */
  readonly sources?: readonly BlobLocation[];
}
