import type { Descriptor } from '@img/oci-spec';
import type { BlobKind } from './plan.js';

/** What happened to one blob during a load. */
export type BlobStatus = 'present' | 'written';

export type LoadProgressEvent =
  /** Containerd's view of every blob is known; `present` of `total` need no write. */
  | { readonly type: 'plan'; readonly total: number; readonly present: number; readonly bytesToWrite: number }
  | { readonly type: 'blob-start'; readonly descriptor: Descriptor; readonly kind: BlobKind }
  /** `offset` bytes of the blob are now in the runtime. */
  | {
      readonly type: 'blob-progress';
      readonly descriptor: Descriptor;
      readonly kind: BlobKind;
      readonly offset: number;
    }
  | {
      readonly type: 'blob-done';
      readonly descriptor: Descriptor;
      readonly kind: BlobKind;
      readonly status: BlobStatus;
      readonly bytesSent: number;
    };

export type ProgressListener = (event: LoadProgressEvent) => void;

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
