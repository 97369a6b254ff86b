import {
  type BlobKind,
  type BlobProgressEvent,
  type Descriptor,
  type ProgressEvent,
  progressReporter,
  type TransferOutcome,
} from '@img/oci-spec';
import { publishPush } from '../diagnostics.js';

/** How a blob reached the registry. */
export type BlobOutcome = Extract<TransferOutcome, 'skipped' | 'mounted' | 'uploaded'>;

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

/** Reports to the caller's listener (whose failure must not break the push) and the diagnostics channel. */
export function progressEmitter(
  onProgress: ((e: ProgressEvent) => void) | undefined,
): (e: ProgressEvent) => void {
  const report = progressReporter(onProgress);
  return (event) => {
    publishPush(event);
    report(event);
  };
}

/** The `done` event of a pushed blob or document; `extra`: `from` (mounted) or `reference` (a manifest). */
export function pushDone(
  kind: BlobKind,
  descriptor: Descriptor,
  outcome: BlobOutcome,
  extra: Pick<BlobProgressEvent, 'from' | 'reference'> = {},
): BlobProgressEvent {
  return {
    type: 'blob',
    operation: 'push',
    phase: 'done',
    kind,
    descriptor,
    bytes: descriptor.size,
    outcome,
    ...extra,
  };
}
