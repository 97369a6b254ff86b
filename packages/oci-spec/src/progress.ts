import type { Descriptor } from './types.js';

/** What is being done with the blobs: pushed to a registry, loaded into a runtime, written to a file. */
export type ProgressOperation = 'push' | 'load' | 'write';

/** What a blob is to its image. */
export type BlobKind = 'index' | 'manifest' | 'config' | 'layer';

/**
 * How a blob ended. push: `uploaded`, `mounted` (from another repository of the registry) or
 * `skipped` (the registry had it); load: `written` or `present` (the runtime had it); write: `written`.
 */
export type TransferOutcome = 'uploaded' | 'mounted' | 'skipped' | 'written' | 'present';

/** Once, before any blob moves: how many blobs there are and how many the destination holds. */
export interface PlanProgressEvent {
  readonly type: 'plan';
  readonly operation: ProgressOperation;
  readonly blobs: number;
  readonly present: number;
  /** Bytes of the blobs the destination lacks. */
  readonly bytesToSend: number;
}

/**
 * One blob: `start` (bytes 0) when its bytes begin to move, `progress` about every MiB, `done` with
 * the outcome. A blob that moves no bytes (present, skipped, mounted) reports `done` only.
 */
export interface BlobProgressEvent {
  readonly type: 'blob';
  readonly operation: ProgressOperation;
  readonly phase: 'start' | 'progress' | 'done';
  readonly kind: BlobKind;
  /** The blob. A layer being written has one only once it is `done` (its digest is known then). */
  readonly descriptor?: Descriptor;
  /** Bytes of the blob at the destination so far (sent, written); at `done`, the blob's size. */
  readonly bytes: number;
  /** `done`: how the blob ended. */
  readonly outcome?: TransferOutcome;
  /** `mounted`: the `registry/repository` the blob was mounted from. */
  readonly from?: string;
  /** A pushed manifest or index: the tag or digest it was put under. */
  readonly reference?: string;
}

/** The one progress event shape of push (registry-client), load (containerd-loader) and layer writing. */
export type ProgressEvent = PlanProgressEvent | BlobProgressEvent;

/**
 * A function that reports `event` to the caller's listener, if any, swallowing what the listener
 * throws (a failing progress display is no reason to fail a push).
 */
export function progressReporter(
  onProgress: ((event: ProgressEvent) => void) | undefined,
): (event: ProgressEvent) => void {
  return (event) => {
    if (!onProgress) return;
    try {
      onProgress(event);
    } catch {
      // The listener's failure is its own.
    }
  };
}
