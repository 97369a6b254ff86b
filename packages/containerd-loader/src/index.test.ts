import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

// A tripwire: adding, removing or renaming an export is a deliberate change, made here too.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'ContainerdClient',
      'DEFAULT_CONTAINERD_ADDRESS',
      'DEFAULT_CONTAINERD_NAMESPACE',
      'DEFAULT_DOCKER_HOST',
      'DEFAULT_LEASE_EXPIRATION_MS',
      'DEFAULT_LOCK_WAIT_MS',
      'DEFAULT_PODMAN',
      'DEFAULT_SNAPSHOTTER',
      'DEFAULT_WRITE_CHUNK_BYTES',
      'DEFAULT_WRITE_CONCURRENCY',
      'DOCKER_CONTAINERD_NAMESPACE',
      'GC_REF_CONFIG',
      'LEASE_EXPIRE_LABEL',
      'LEASE_HEADER',
      'LEASE_HOST_LABEL',
      'LEASE_PID_LABEL',
      'LoadError',
      'NAMESPACE_HEADER',
      'PROTO_DIR_ENV',
      'chainIds',
      'contentInfo',
      'deleteStaleLeases',
      'dockerArchiveStream',
      'dockerArchiveStreamOf',
      'dockerEndpoint',
      'dockerImageStore',
      'findProtoDir',
      'gcSnapshotLabel',
      'getImage',
      'ingestRef',
      'loadIntoContainerd',
      'loadIntoDocker',
      'loadIntoPodman',
      'normalizeImageName',
      'parseImageName',
      'planLoad',
      'protoDirCandidates',
      'upsertImage',
      'writeBlob',
    ]);
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.ArchiveStream,
  api.ArchiveStreamOptions,
  api.BlobOutcome,
  api.BlobStatus,
  api.ContainerdClientOptions,
  api.ContainerdLoadOptions,
  api.ContentInfo,
  api.DockerEndpoint,
  api.DockerLoadOptions,
  api.FetchMissingBlob,
  api.ImageRecord,
  api.ImageRecordChange,
  api.ImageReference,
  api.LoadErrorCode,
  api.LoadPlan,
  api.LoadResult,
  api.PlannedBlob,
  api.PlatformSelection,
  api.PodmanLoadOptions,
  api.WriteBlobOptions,
  api.WriteBlobResult,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
