import type { ProgressEvent } from './progress.js';

/**
 * The option groups img's libraries share, declared once: each call's options type extends the ones
 * it honours (`interface PushOptions extends AbortOptions, ProgressOptions {...}`).
 */
export interface AbortOptions {
  /**
   * Aborting stops the work, removes what was half written (temp files, containerd leases, upload
   * sessions) and rejects the call with `signal.reason` (an `AbortError` unless the caller gave
   * another reason). Default: not abortable.
   */
  readonly signal?: AbortSignal;
}

export interface ProgressOptions {
  /** Progress of each blob (see ProgressEvent); a listener that throws does not stop the work. */
  readonly onProgress?: (event: ProgressEvent) => void;
}
