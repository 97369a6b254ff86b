import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeLayerToFile } from '@img/layer-writer';
import type { ProgressEvent } from '@img/oci-spec';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { estargzFromTarToFile, writeEstargzLayerToFile } from '../src/index.js';

// Abort mid-write: the promise rejects with the signal's reason; no blob and no temp file is left.
const tmp = useTempDir('estargz-abort-');

async function bigTree(name: string): Promise<string> {
  const dir = tmp.join(name, 'src');
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < 6; i++) await writeFile(join(dir, `f${i}`), randomBytes(2 * 1024 * 1024));
  return dir;
}

/** Aborts once a MiB of blob has been written. */
function abortAfterAMiB() {
  const controller = new AbortController();
  const onProgress = (e: ProgressEvent) => {
    if (e.type === 'blob' && e.bytes >= 1024 * 1024) controller.abort();
  };
  return { signal: controller.signal, onProgress };
}

describe('abort', () => {
  for (const compression of ['gzip', 'zstd'] as const) {
    it(`writeEstargzLayerToFile (${compression}): rejects with an AbortError, leaves nothing`, async () => {
      const src = await bigTree(`write-${compression}`);
      const out = tmp.join(`write-${compression}`, 'layer.blob');
      const write = writeEstargzLayerToFile(
        { entries: [{ type: 'directory', path: '/', source: src }] },
        out,
        {
          compression,
          ...abortAfterAMiB(),
        },
      );
      await expect(write).rejects.toMatchObject({ name: 'AbortError' });
      expect(await readdir(tmp.join(`write-${compression}`))).toEqual(['src']);
    });
  }

  it('estargzFromTarToFile: rejects with an AbortError, leaves nothing', async () => {
    const src = await bigTree('from-tar');
    const tar = tmp.join('from-tar', 'in.tar');
    await writeLayerToFile({ entries: [{ type: 'directory', path: '/', source: src }] }, tar, {
      compression: 'none',
    });
    const write = estargzFromTarToFile(tar, tmp.join('from-tar', 'out.blob'), abortAfterAMiB());
    await expect(write).rejects.toMatchObject({ name: 'AbortError' });
    expect((await readdir(tmp.join('from-tar'))).sort()).toEqual(['in.tar', 'src']);
  });
});
