import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DIR, imgOk } from './helpers.js';

// One LayerRequest, built from `img layer` flags or from a spec layer, drives the layer writer: the
// same layer described both ways is the same blob, with the same metadata.
const tmp = useTempDir('img-layer-request-');

/** Run `fn` with SOURCE_DATE_EPOCH set to `epoch` (unchanged when undefined). */
async function withEpoch<T>(epoch: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined) process.env.SOURCE_DATE_EPOCH = epoch;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
}

async function specLayerDigest(layer: Record<string, unknown>, epoch?: string): Promise<string> {
  const spec = tmp.join('spec.json');
  await writeFile(spec, JSON.stringify({ platform: 'linux/amd64', layers: [layer] }));
  const out = tmp.join('out');
  await withEpoch(epoch, () => imgOk('build', spec, '-o', `oci:${out}`));
  const info = JSON.parse((await imgOk('inspect', `oci:${out}`, '--json')).stdout);
  return info.images[0].layers[0].digest;
}

async function flagLayerDigest(flags: string[], epoch?: string): Promise<string> {
  const blob = tmp.join('layer.blob');
  await withEpoch(epoch, () => imgOk('layer', blob, ...flags, '--metadata', `${blob}.json`));
  return JSON.parse(await readFile(`${blob}.json`, 'utf8')).digest;
}

describe('layer request', () => {
  const script = join(EXAMPLE_DIR, 'app/hello.sh');
  const dir = join(EXAMPLE_DIR, 'app/static');

  it('a spec layer with opaque directories and whiteouts is the layer img layer writes from flags', async () => {
    const fromSpec = await specLayerDigest(
      {
        files: { '/app/hello.sh': script },
        directories: { '/srv/static': dir },
        symlinks: { '/usr/bin/hello': '/app/hello.sh' },
        emptyFiles: ['/app/.keep'],
        whiteouts: ['/etc/old.conf'],
        opaque: ['/var/cache'],
        metadata: { '/app/hello.sh': { mode: '0755' } },
        compress: 'zstd',
        createdBy: 'same layer',
      },
      '1700000000',
    );
    const fromFlags = await flagLayerDigest(
      [
        '--add',
        `/app/hello.sh=${script}`,
        '--add-dir',
        `/srv/static=${dir}`,
        '--symlink',
        '/usr/bin/hello=/app/hello.sh',
        '--empty-file',
        '/app/.keep',
        '--whiteout',
        '/etc/old.conf',
        '--opaque',
        '/var/cache',
        '--file-metadata',
        '/app/hello.sh={"mode":"0755"}',
        '--format',
        'zstd',
        '--created-by',
        'same layer',
      ],
      '1700000000',
    );
    expect(fromSpec).toBe(fromFlags);
    // The opaque entry is in it: without it the flags' layer differs.
    const withoutOpaque = await specLayerDigest(
      {
        files: { '/app/hello.sh': script },
        directories: { '/srv/static': dir },
        symlinks: { '/usr/bin/hello': '/app/hello.sh' },
        emptyFiles: ['/app/.keep'],
        whiteouts: ['/etc/old.conf'],
        metadata: { '/app/hello.sh': { mode: '0755' } },
        compress: 'zstd',
        createdBy: 'same layer',
      },
      '1700000000',
    );
    expect(withoutOpaque).not.toBe(fromFlags);
  });

  it('an eStargz spec layer is the eStargz layer of img layer --estargz', async () => {
    const fromSpec = await specLayerDigest({
      files: { '/app/hello.sh': script },
      estargz: true,
      compress: 'zstd',
      zstdChunked: 'stargz-snapshotter',
    });
    const fromFlags = await flagLayerDigest([
      '--add',
      `/app/hello.sh=${script}`,
      '--estargz',
      '--format',
      'zstd',
      '--zstd-chunked',
      'stargz-snapshotter',
      '--created-by',
      'img build',
    ]);
    expect(fromSpec).toBe(fromFlags);
  });
});
