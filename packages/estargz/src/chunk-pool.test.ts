import { describe, expect, it } from 'vitest';
import { ChunkPool } from './chunk-pool.js';

describe('ChunkPool', () => {
  it('reuses a buffer only after every hold on it is released', () => {
    const pool = new ChunkPool(1024, 4);
    const a = pool.allocate();
    pool.hold(a.subarray(0, 10));
    pool.hold(a.subarray(500));
    pool.release(a); // the writer's hold
    pool.release(a.subarray(0, 10));
    expect(pool.allocate().buffer).not.toBe(a.buffer); // one piece still held
    pool.release(a.subarray(500));
    const again = pool.allocate();
    expect(again.buffer).toBe(a.buffer);
    expect(again.length).toBe(1024);
  });

  it('ignores buffers it did not hand out, and keeps at most maxFree spare buffers', () => {
    const pool = new ChunkPool(1024, 1);
    const foreign = Buffer.alloc(1024);
    pool.hold(foreign);
    pool.release(foreign);
    expect(pool.allocate().buffer).not.toBe(foreign.buffer);
    const [a, b] = [pool.allocate(), pool.allocate()];
    pool.release(a);
    pool.release(b); // beyond maxFree: left to the GC
    pool.release(a); // a second release of a returned buffer is ignored
    expect(pool.allocate().buffer).toBe(a.buffer);
    expect(pool.allocate().buffer).not.toBe(b.buffer);
  });
});
