import type { BlobKind, Descriptor, ProgressEvent } from '@img/oci-spec';

/** What happened to one blob during a load. */
export type BlobStatus = 'present' | 'written';

/** The `done` progress event of a blob's outcome. */
export function doneEvent(b: BlobOutcome): ProgressEvent {
  const { descriptor, kind, status } = b;
  return {
    type: 'blob',
    operation: 'load',
    phase: 'done',
    kind,
    descriptor,
    bytes: descriptor.size,
    outcome: status,
  };
}

export interface BlobOutcome {
  readonly descriptor: Descriptor;
  readonly kind: BlobKind;
  readonly status: BlobStatus;
  /** Bytes sent to the runtime for this blob in this load. */
  readonly bytesSent: number;
  /** True when the bytes came from `fetchMissingBlob` (a base layer absent locally). */
  readonly fetched?: boolean;
}

/** The outcome of a load into any runtime. */
export interface LoadResult {
  readonly runtime: 'containerd' | 'docker' | 'podman';
  /** Root descriptor the image names point at. */
  readonly root: Descriptor;
  /** Image names as the runtime records them. */
  readonly names: readonly string[];
  readonly blobs: readonly BlobOutcome[];
  readonly blobsPresent: number;
  readonly blobsWritten: number;
  readonly bytesWritten: number;
  /** Docker/Podman: the image (by ID) was already there, so nothing was streamed. */
  readonly skipped?: boolean;
  /** Docker/Podman: bytes of the docker-save archive actually streamed (tar headers included). */
  readonly archiveBytes?: number;
}

export function summarize(
  runtime: LoadResult['runtime'],
  root: Descriptor,
  names: readonly string[],
  blobs: readonly BlobOutcome[],
  extra: Partial<Pick<LoadResult, 'skipped' | 'archiveBytes'>> = {},
): LoadResult {
  return {
    runtime,
    root,
    names,
    blobs,
    blobsPresent: blobs.filter((b) => b.status === 'present').length,
    blobsWritten: blobs.filter((b) => b.status === 'written').length,
    bytesWritten: blobs.reduce((n, b) => n + b.bytesSent, 0),
    ...extra,
  };
}
