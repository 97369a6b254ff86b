import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { img, imgOk } from './helpers.js';

// `img layout --layer META` (no blob): a pulled base layer whose metadata names its sources is left
// out of the layout and recorded in img-sources.json, which push (mount) and load (stream) read.
const tmp = useTempDir('img-layout-shallow-');

const DIFF_ID = `sha256:${'1'.repeat(64)}`;
const DIGEST = `sha256:${'2'.repeat(64)}`;

async function manifestWithBaseLayer(meta: Record<string, unknown>): Promise<string[]> {
  const metaPath = tmp.join('base-layer.json');
  await writeFile(metaPath, JSON.stringify(meta));
  const manifest = tmp.join('manifest.json');
  const config = tmp.join('config.json');
  await imgOk('manifest', '--layer', metaPath, '--manifest', manifest, '--config', config);
  return ['--manifest', manifest, '--config', config, '--layer', metaPath];
}

describe('img layout with shallow layers', () => {
  it('records a layer with sources in img-sources.json instead of writing its blob', async () => {
    const source = { registry: '127.0.0.1:5000', repository: 'base/busybox' };
    const args = await manifestWithBaseLayer({
      diff_id: DIFF_ID,
      digest: DIGEST,
      size: 1234,
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      sources: [source],
    });
    const out = tmp.join('layout');
    await imgOk('layout', ...args, '--output', `oci:${out}`);
    const sources = JSON.parse(await readFile(join(out, 'img-sources.json'), 'utf8'));
    expect(sources).toEqual({ [DIGEST]: [source] });
    expect(existsSync(join(out, 'blobs', 'sha256', DIGEST.slice(7)))).toBe(false);
  });

  it('rejects a layer with neither blob nor sources, naming the flag and file', async () => {
    const args = await manifestWithBaseLayer({
      diff_id: DIFF_ID,
      digest: DIGEST,
      size: 1234,
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    });
    const out = tmp.join('layout-bad');
    const r = await img('layout', ...args, '--output', `oci:${out}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--layer .*base-layer\.json: no blob given and the metadata names no sources/);
    expect(existsSync(out)).toBe(false);
  });
});
