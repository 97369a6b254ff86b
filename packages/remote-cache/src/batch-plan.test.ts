import type { Digest } from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import { fitsInBatch, PER_BLOB_OVERHEAD_BYTES, planBatches } from './batch-plan.js';

const blob = (size: number, n = 0) => ({ digest: `sha256:${String(n).padStart(64, '0')}` as Digest, size });

describe('batch planning', () => {
  it('a blob fits when its data, its overhead and the request overhead stay within the limit', () => {
    expect(fitsInBatch(blob(1000 - PER_BLOB_OVERHEAD_BYTES - 10), 1000, 10)).toBe(true);
    expect(fitsInBatch(blob(1000 - PER_BLOB_OVERHEAD_BYTES - 9), 1000, 10)).toBe(false);
  });

  it('fills batches in order up to the byte limit and the count limit', () => {
    const blobs = [blob(300, 1), blob(300, 2), blob(300, 3), blob(10, 4), blob(10, 5), blob(10, 6)];
    const bySize = planBatches(blobs, 2 * (300 + PER_BLOB_OVERHEAD_BYTES) + 10, 10, 100);
    expect(bySize.map((b) => b.map((x) => x.size))).toEqual([
      [300, 300],
      [300, 10, 10, 10],
    ]);
    expect(planBatches(blobs, 300 + PER_BLOB_OVERHEAD_BYTES + 10, 10, 100)).toHaveLength(4);
    const byCount = planBatches(blobs, 1e9, 0, 4);
    expect(byCount.map((b) => b.length)).toEqual([4, 2]);
    expect(planBatches([], 100, 0, 1)).toEqual([]);
  });
});
