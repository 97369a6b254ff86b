import type { Digest } from '@img/oci-spec';
import { publishPush } from '../diagnostics.js';

/** How a blob reached the destination. */
export type BlobOutcome = 'skipped' | 'mounted' | 'uploaded';

export interface BlobProgressEvent {
  readonly kind: 'blob';
  readonly digest: Digest;
  readonly size: number;
  /** `uploading` comes when an upload starts (bytes 0) and about every MiB after; the others are final. */
  readonly state: 'uploading' | BlobOutcome;
  /** Bytes of this blob the registry has (or has been sent in the current attempt). */
  readonly bytes: number;
  /** `registry/repository` the blob was mounted from, for `mounted`. */
  readonly from?: string;
}

export interface ManifestProgressEvent {
  readonly kind: 'manifest';
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  /** The tag or digest it was put under. */
  readonly reference: string;
}

export type PushProgressEvent = BlobProgressEvent | ManifestProgressEvent;

/** What a push did; `requests` counts every HTTP request (pings, tokens, retries included). */
export interface PushSummary {
  blobsUploaded: number;
  blobsSkipped: number;
  blobsMounted: number;
  /** Bytes sent in blob uploads, retried bytes included. */
  bytesUploaded: number;
  manifestsPushed: number;
  requests: number;
  retries: number;
  durationMs: number;
}

export function emptySummary(): PushSummary {
  return {
    blobsUploaded: 0,
    blobsSkipped: 0,
    blobsMounted: 0,
    bytesUploaded: 0,
    manifestsPushed: 0,
    requests: 0,
    retries: 0,
    durationMs: 0,
  };
}

/** Calls the user's callback (a throwing callback must not break the push) and the diagnostics channel. */
export function progressEmitter(
  onProgress: ((e: PushProgressEvent) => void) | undefined,
): (e: PushProgressEvent) => void {
  return (event) => {
    publishPush(event);
    if (!onProgress) return;
    try {
      onProgress(event);
    } catch {
      // A progress display failing is not a reason to fail the push.
    }
  };
}
