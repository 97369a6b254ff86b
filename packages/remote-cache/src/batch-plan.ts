import type { BlobRef } from './blob-ref.js';

/**
 * Bytes a blob adds to a batch request or response beyond its data: its digest (64 hex + size),
 * the data's length prefix, the per-blob status and field tags; generous so that a full batch never
 * crosses the server's limit.
 */
export const PER_BLOB_OVERHEAD_BYTES = 128;

/** True when the blob fits into one batch request of at most `maxBatchBytes` (with the request's own overhead). */
export function fitsInBatch(blob: BlobRef, maxBatchBytes: number, requestOverhead: number): boolean {
  return blob.size + PER_BLOB_OVERHEAD_BYTES + requestOverhead <= maxBatchBytes;
}

/**
 * Split blobs (each of which fits alone) into batches of at most `maxBatchBytes` and `maxCount`
 * blobs, in order.
 */
export function planBatches<T extends BlobRef>(
  blobs: readonly T[],
  maxBatchBytes: number,
  requestOverhead: number,
  maxCount: number,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = requestOverhead;
  for (const blob of blobs) {
    const cost = blob.size + PER_BLOB_OVERHEAD_BYTES;
    if (current.length > 0 && (bytes + cost > maxBatchBytes || current.length >= maxCount)) {
      batches.push(current);
      current = [];
      bytes = requestOverhead;
    }
    current.push(blob);
    bytes += cost;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
