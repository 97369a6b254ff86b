export type { ArchiveStream, ArchiveStreamOptions } from './archive-stream.js';
export { dockerArchiveStream, dockerArchiveStreamOf } from './archive-stream.js';
export type { ContainerdClientOptions } from './containerd/client.js';
export { ContainerdClient, LEASE_HEADER, NAMESPACE_HEADER } from './containerd/client.js';
export type { ContentInfo, WriteBlobOptions, WriteBlobResult } from './containerd/content-store.js';
export {
  contentInfo,
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_WRITE_CHUNK_BYTES,
  ingestRef,
  writeBlob,
} from './containerd/content-store.js';
export type { ImageRecord, ImageRecordChange } from './containerd/images.js';
export { getImage, upsertImage } from './containerd/images.js';
export {
  DEFAULT_LEASE_EXPIRATION_MS,
  deleteStaleLeases,
  LEASE_EXPIRE_LABEL,
  LEASE_HOST_LABEL,
  LEASE_PID_LABEL,
} from './containerd/leases.js';
export { chainIds, DEFAULT_SNAPSHOTTER, gcSnapshotLabel } from './containerd/snapshots.js';
export type { DockerEndpoint } from './docker/engine-api.js';
export { DEFAULT_DOCKER_HOST, dockerEndpoint } from './docker/engine-api.js';
export type { DockerLoadOptions } from './docker/load-docker.js';
export { DOCKER_CONTAINERD_NAMESPACE, dockerImageStore, loadIntoDocker } from './docker/load-docker.js';
export type { LoadErrorCode } from './errors.js';
export { LoadError } from './errors.js';
export type { ImageReference } from './image-name.js';
export { normalizeImageName, parseImageName } from './image-name.js';
export type { ContainerdLoadOptions, FetchMissingBlob } from './load-containerd.js';
export {
  DEFAULT_CONTAINERD_ADDRESS,
  DEFAULT_CONTAINERD_NAMESPACE,
  DEFAULT_WRITE_CONCURRENCY,
  loadIntoContainerd,
} from './load-containerd.js';
export type { LoadPlan, PlannedBlob, PlatformSelection } from './plan.js';
export { GC_REF_CONFIG, planLoad } from './plan.js';
export type { PodmanLoadOptions } from './podman/load-podman.js';
export { DEFAULT_PODMAN, loadIntoPodman } from './podman/load-podman.js';
export type { BlobOutcome, BlobStatus, LoadResult } from './progress.js';
export { findProtoDir, PROTO_DIR_ENV, protoDirCandidates } from './proto-dir.js';
