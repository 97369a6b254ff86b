/** Media types of the OCI image-spec and their Docker v2 schema 2 equivalents. */
export const MediaType = {
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  OciLayoutHeader: 'application/vnd.oci.layout.header.v1+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  DockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;
export type MediaTypeName = (typeof MediaType)[keyof typeof MediaType];

export type MediaTypeFamily = 'oci' | 'docker';
export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** The manifest Accept list: every manifest and index type we understand. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
];

export function isIndex(mediaType: string): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

export function isManifest(mediaType: string): boolean {
  return mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest;
}

export function isImageConfig(mediaType: string): boolean {
  return mediaType === MediaType.OciConfig || mediaType === MediaType.DockerConfig;
}

export function isSchema1(mediaType: string): boolean {
  return mediaType === MediaType.DockerSchema1 || mediaType === MediaType.DockerSchema1Signed;
}

export function isLayer(mediaType: string): boolean {
  return (
    mediaType.startsWith('application/vnd.oci.image.layer.') ||
    mediaType.startsWith('application/vnd.docker.image.rootfs.')
  );
}

/** Non-distributable ("foreign") layers are not pushed to registries by default. */
export function isDistributable(mediaType: string): boolean {
  return !mediaType.includes('nondistributable') && !mediaType.includes('foreign');
}

/** The family a media type belongs to, or undefined for a type of neither (artifacts, eStargz TOCs...). */
export function familyOf(mediaType: string): MediaTypeFamily | undefined {
  if (mediaType.startsWith('application/vnd.oci.')) return 'oci';
  if (mediaType.startsWith('application/vnd.docker.')) return 'docker';
  return undefined;
}

/** How a layer's bytes are compressed, judged by its media type. */
export function layerCompression(mediaType: string): LayerCompression {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  return 'none';
}

/** The OCI layer media type for a compression. */
export function ociLayerMediaType(compression: LayerCompression): string {
  switch (compression) {
    case 'gzip':
      return MediaType.OciLayerGzip;
    case 'zstd':
      return MediaType.OciLayerZstd;
    default:
      return MediaType.OciLayer;
  }
}

const DOCKER_TO_OCI: Record<string, string> = {
  [MediaType.DockerManifestList]: MediaType.OciIndex,
  [MediaType.DockerManifest]: MediaType.OciManifest,
  [MediaType.DockerConfig]: MediaType.OciConfig,
  [MediaType.DockerLayer]: MediaType.OciLayer,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerForeignLayerGzip]: MediaType.OciLayerNondistributableGzip,
};
const OCI_TO_DOCKER: Record<string, string> = Object.fromEntries(
  Object.entries(DOCKER_TO_OCI).map(([d, o]) => [o, d]),
);

/** The OCI equivalent of a Docker media type (other types are returned unchanged). */
export function toOciMediaType(mediaType: string): string {
  return DOCKER_TO_OCI[mediaType] ?? mediaType;
}

/** The Docker equivalent of an OCI media type, or undefined where Docker has none (zstd layers). */
export function toDockerMediaType(mediaType: string): string | undefined {
  if (familyOf(mediaType) === 'docker') return mediaType;
  return OCI_TO_DOCKER[mediaType];
}
