import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildImage } from '@img/image-assembly';
import { writeLayerToFile } from '@img/layer-writer';
import type { LayerMetadata } from '@img/oci-spec';
import { snapshotTree, useTempDir } from '@img/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { DirectorySink } from './directory-sink.js';
import type { ImageContent } from './image-content.js';
import { readLayout } from './read-layout.js';
import { validateLayout } from './validate-layout.js';
import { writeOciLayout } from './write-layout.js';

const tmp = useTempDir('directory-sink-');
const images: ImageContent[] = [];

async function image(n: number): Promise<ImageContent> {
  const path = tmp.join(`layer-${n}.tgz`);
  const layer: LayerMetadata = await writeLayerToFile(
    { entries: [{ type: 'content', path: '/n', content: `image ${n}\n` }] },
    path,
  );
  const img = buildImage({ platform: { os: 'linux', architecture: 'amd64' }, layers: [layer] });
  return {
    root: img.descriptor,
    documents: new Map([
      [img.manifest.config.digest, img.configBytes],
      [img.descriptor.digest, img.manifestBytes],
    ]),
    blobs: new Map([[layer.digest, { descriptor: layer, open: async () => createReadStream(path) }]]),
  };
}

/** Content whose layer stream fails halfway: a write that must leave nothing behind. */
function failing(c: ImageContent): ImageContent {
  const [digest, handle] = [...c.blobs][0]!;
  const open = async () =>
    Readable.from(
      (async function* () {
        yield Buffer.alloc(10);
        throw new Error('source went away');
      })(),
    );
  return { ...c, blobs: new Map([[digest, { ...handle, open }]]) };
}

async function tags(dir: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  return index.manifests.map(
    (m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'],
  );
}

beforeAll(async () => {
  for (const n of [1, 2, 3]) images.push(await image(n));
});

describe('DirectorySink into an existing layout', () => {
  it('keeps the first tag when a second is written, and replaces the same tag', async () => {
    const dir = tmp.join('tags');
    await writeOciLayout(images[0]!, new DirectorySink(dir), { refName: 'v1' });
    await writeOciLayout(images[1]!, new DirectorySink(dir), { refName: 'v2' });
    expect(await tags(dir)).toEqual(['v1', 'v2']);
    await writeOciLayout(images[2]!, new DirectorySink(dir), { refName: 'v1' });
    expect(await tags(dir)).toEqual(['v2', 'v1']);
    expect((await readLayout(`oci:${dir}:v1`)).root.digest).toBe(images[2]!.root.digest);
    expect((await readLayout(`oci:${dir}:v2`)).root.digest).toBe(images[1]!.root.digest);
    await validateLayout(`oci:${dir}:v1`);
    await validateLayout(`oci:${dir}:v2`);
  });

  it('leaves an existing layout exactly as it was when a write fails', async () => {
    const dir = tmp.join('unchanged');
    await writeOciLayout(images[0]!, new DirectorySink(dir), { refName: 'v1' });
    const before = await snapshotTree(dir);
    await expect(
      writeOciLayout(failing(images[1]!), new DirectorySink(dir), { refName: 'v2' }),
    ).rejects.toThrow(/source went away|size|digest/);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('removes a directory it created when the write fails', async () => {
    const parent = tmp.join('fresh-parent');
    await mkdir(parent);
    await expect(
      writeOciLayout(failing(images[0]!), new DirectorySink(join(parent, 'a/b/layout'))),
    ).rejects.toThrow();
    expect(await readdir(parent)).toEqual([]);
  });
});

describe('DirectorySink into a folder that is not a layout', () => {
  it('refuses a non-empty folder and leaves it untouched', async () => {
    const dir = tmp.join('sources');
    await mkdir(join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, 'src/main.ts'), 'console.log(1);\n');
    await writeFile(join(dir, 'package.json'), '{}\n');
    const before = await snapshotTree(dir);
    const err = await writeOciLayout(images[0]!, new DirectorySink(dir)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IMG_LAYOUT_NOT_A_LAYOUT' });
    expect((err as Error).message).toMatch(new RegExp(`^${dir}: not empty and not an OCI image layout`));
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('with force, adds the layout beside the files without touching them', async () => {
    const dir = tmp.join('forced');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine\n');
    await writeOciLayout(images[0]!, new DirectorySink(dir, { force: true }), { refName: 'v1' });
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
    await validateLayout(`oci:${dir}`);
  });

  it('refuses a file where the layout directory should be', async () => {
    const file = tmp.join('a-file');
    await writeFile(file, 'x');
    await expect(writeOciLayout(images[0]!, new DirectorySink(file))).rejects.toThrow(
      `${file}: not a directory`,
    );
    expect(await readFile(file, 'utf8')).toBe('x');
  });
});

describe('DirectorySink with concurrent writers', () => {
  it('loses no image when several write one layout at once', async () => {
    const dir = tmp.join('concurrent');
    await Promise.all(images.map((c, i) => writeOciLayout(c, new DirectorySink(dir), { refName: `t${i}` })));
    expect((await tags(dir)).sort()).toEqual(['t0', 't1', 't2']);
    for (const t of ['t0', 't1', 't2']) await validateLayout(`oci:${dir}:${t}`);
    expect((await readdir(dir)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });
});
