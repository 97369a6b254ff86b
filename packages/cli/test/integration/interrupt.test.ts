import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ciRequires, run, snapshotTree, useTempDir } from '@img/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { runImg, type SpawnedImg, spawnImg } from '../bin.js';
import { EXAMPLE_DIR } from '../helpers.js';

const tmp = useTempDir('img-cli-interrupt-');
const needsMount = ciRequires('mount', 'umount', { root: true });
/** Incompressible inputs large enough that img is still writing when the signal comes. */
const BIG_FILES = ['a', 'b', 'c', 'd'];
const BIG_FILE_BYTES = 48 * 1024 * 1024;

/** Poll until some path under `dir` matches `pattern` (what img is writing right now), or img ends. */
async function waitForPath(dir: string, pattern: RegExp, img: SpawnedImg): Promise<string> {
  let ended = false;
  void img.done.then(() => {
    ended = true;
  });
  for (;;) {
    const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
    const hit = names.map(String).find((n) => pattern.test(n));
    if (hit) return hit;
    if (ended) throw new Error(`img ended before ${pattern} appeared: ${(await img.done).stderr}`);
    await sleep(5);
  }
}

async function bigSpec(compress: 'gzip' | 'none'): Promise<string> {
  const path = join(tmp.path, `big-${compress}.json`);
  const files = Object.fromEntries(BIG_FILES.map((f) => [`/data/${f}`, join(tmp.path, 'in', f)]));
  await writeFile(path, JSON.stringify({ platform: 'linux/amd64', layers: [{ files, compress }] }));
  return path;
}

beforeAll(async () => {
  await mkdir(join(tmp.path, 'in'));
  for (const f of BIG_FILES) await writeFile(join(tmp.path, 'in', f), randomBytes(BIG_FILE_BYTES));
});

describe('img interrupted by SIGINT / SIGTERM', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`img layer: ${signal} mid-write leaves no blob and no temp file, and img dies of the signal`, async () => {
      const out = join(tmp.path, `layer-${signal}`);
      await mkdir(out);
      const adds = BIG_FILES.flatMap((f) => ['--add', `/data/${f}=${join(tmp.path, 'in', f)}`]);
      const img = spawnImg([
        'layer',
        join(out, 'layer.tgz'),
        ...adds,
        '--compression-level',
        '9',
        '--metadata',
        join(out, 'layer.json'),
      ]);
      await waitForPath(out, /^\.layer\.tgz\.tmp-/, img);
      img.child.kill(signal);
      const r = await img.done;
      expect(r).toMatchObject({ code: null, signal });
      expect(await readdir(out)).toEqual([]);
    });
  }

  it('img build into an existing layout: SIGTERM while building leaves the layout and $TMPDIR as they were', async () => {
    const layout = join(tmp.path, 'layout-build');
    expect((await runImg(['build', join(EXAMPLE_DIR, 'image.json'), '-o', `oci:${layout}:hello`])).code).toBe(
      0,
    );
    const before = await snapshotTree(layout);
    const scratch = join(tmp.path, 'tmpdir-build');
    await mkdir(scratch);
    const img = spawnImg(['build', await bigSpec('gzip'), '-o', `oci:${layout}:big`], { TMPDIR: scratch });
    await waitForPath(scratch, /^img-build-.*\.tmp-/, img);
    img.child.kill('SIGTERM');
    expect(await img.done).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(await readdir(scratch)).toEqual([]);
    expect(await snapshotTree(layout)).toEqual(before);
  });

  // Layer files are hard-linked into a layout on the same file system; the build's scratch directory
  // is a tmpfs here so the layers are copied (verified) into the layout, the case being interrupted.
  it.skipIf(needsMount.skip)(
    'img build: SIGINT while blobs are copied into the layout removes them, the lock and a new layout folder',
    async () => {
      const spec = await bigSpec('none');
      const existing = join(tmp.path, 'layout-copy');
      expect(
        (await runImg(['build', join(EXAMPLE_DIR, 'image.json'), '-o', `oci:${existing}:hello`])).code,
      ).toBe(0);
      const before = await snapshotTree(existing);
      const parent = join(tmp.path, 'fresh-parent');
      await mkdir(parent);
      for (const [layout, watch] of [
        [existing, existing],
        [join(parent, 'new-layout'), parent],
      ] as const) {
        const scratch = join(tmp.path, `tmpdir-${watch === parent ? 'fresh' : 'existing'}`);
        await mkdir(scratch);
        await run('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', scratch]);
        try {
          const img = spawnImg(['build', spec, '-o', `oci:${layout}:big`], { TMPDIR: scratch });
          await waitForPath(watch, /blobs\/sha256\/\..*\.tmp-/, img);
          img.child.kill('SIGINT');
          expect(await img.done).toMatchObject({ code: null, signal: 'SIGINT' });
          expect(await readdir(scratch)).toEqual([]);
        } finally {
          await run('umount', [scratch]);
        }
      }
      expect(await snapshotTree(existing)).toEqual(before);
      expect(await readdir(parent)).toEqual([]);
    },
  );
});
