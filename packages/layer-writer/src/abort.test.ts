import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgressEvent } from '@img/oci-spec';
import { afterEach, describe, expect, it } from 'vitest';
import { layerFromTarToFile, writeLayerToFile } from './index.js';
import { tempDir } from './test-helpers.js';

// Abort mid-write: the promise rejects with the signal's reason, and neither the blob nor its temp
// file is left in the directory. Progress of the same writes: one `write` event shape.
const dirs: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of dirs.splice(0)) cleanup();
});

/** A directory with `files` files of 4 MiB of incompressible bytes (so the blob grows as it is written). */
function bigTree(files: number): { root: string; src: string } {
  const { dir, cleanup } = tempDir('layer-abort-');
  dirs.push(cleanup);
  const src = join(dir, 'src');
  mkdirSync(src);
  for (let i = 0; i < files; i++) writeFileSync(join(src, `f${i}`), randomBytes(4 * 1024 * 1024));
  return { root: dir, src };
}

/** Aborts once `after` bytes of blob were written; records every event. */
function abortAfter(after: number) {
  const controller = new AbortController();
  const events: ProgressEvent[] = [];
  const onProgress = (e: ProgressEvent) => {
    events.push(e);
    if (e.type === 'blob' && e.bytes >= after) controller.abort();
  };
  return { controller, events, onProgress, signal: controller.signal };
}

describe('abort', () => {
  for (const [name, options] of [
    ['gzip', {}],
    ['gzip on worker threads', { compressorJobs: 2 }],
    ['zstd', { compression: 'zstd' as const }],
  ] as const) {
    it(`writeLayerToFile (${name}): rejects with an AbortError, leaves no blob and no temp file`, async () => {
      const { root, src } = bigTree(8);
      const { signal, onProgress, events } = abortAfter(1024 * 1024);
      const out = join(root, 'layer.blob');
      const write = writeLayerToFile({ entries: [{ type: 'directory', path: '/data', source: src }] }, out, {
        ...options,
        signal,
        onProgress,
      });
      await expect(write).rejects.toMatchObject({ name: 'AbortError' });
      expect(readdirSync(root)).toEqual(['src']);
      expect(events[0]).toEqual({
        type: 'blob',
        operation: 'write',
        phase: 'start',
        kind: 'layer',
        bytes: 0,
      });
      expect(events.some((e) => e.type === 'blob' && e.phase === 'done')).toBe(false);
    });
  }

  it('layerFromTarToFile: rejects with the given reason, leaves no blob and no temp file', async () => {
    const { root, src } = bigTree(8);
    const tar = join(root, 'in.tar');
    await writeLayerToFile({ entries: [{ type: 'directory', path: '/', source: src }] }, tar, {
      compression: 'none',
    });
    const controller = new AbortController();
    const reason = new Error('stop now');
    const out = join(root, 'out.blob');
    const write = layerFromTarToFile(tar, out, {
      compression: 'gzip',
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'blob' && e.phase === 'progress') controller.abort(reason);
      },
    });
    await expect(write).rejects.toBe(reason);
    expect(readdirSync(root).sort()).toEqual(['in.tar', 'src']);
  });

  it('an already aborted signal writes nothing', async () => {
    const { root, src } = bigTree(1);
    const out = join(root, 'layer.blob');
    const write = writeLayerToFile({ entries: [{ type: 'directory', path: '/', source: src }] }, out, {
      signal: AbortSignal.abort(),
    });
    await expect(write).rejects.toMatchObject({ name: 'AbortError' });
    expect(readdirSync(root)).toEqual(['src']);
  });

  it('reports start, progress about every MiB, and done with the descriptor', async () => {
    const { root, src } = bigTree(2);
    const events: ProgressEvent[] = [];
    const meta = await writeLayerToFile(
      { entries: [{ type: 'directory', path: '/', source: src }] },
      join(root, 'layer.blob'),
      { compression: 'none', onProgress: (e) => events.push(e) },
    );
    const phases = events.map((e) => (e.type === 'blob' ? e.phase : e.type));
    expect(phases[0]).toBe('start');
    expect(phases.at(-1)).toBe('done');
    expect(phases.filter((p) => p === 'progress').length).toBeGreaterThanOrEqual(7);
    expect(events.at(-1)).toEqual({
      type: 'blob',
      operation: 'write',
      phase: 'done',
      kind: 'layer',
      descriptor: { mediaType: meta.mediaType, digest: meta.digest, size: meta.size },
      bytes: meta.size,
      outcome: 'written',
    });
  });
});
