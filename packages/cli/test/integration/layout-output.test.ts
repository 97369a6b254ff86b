import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ciRequires, snapshotTree, startRegistry, type TestRegistry, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BinRun, runImg } from '../bin.js';
import { EXAMPLE_DIR } from '../helpers.js';

const tmp = useTempDir('img-cli-layout-out-');
const SPEC = join(EXAMPLE_DIR, 'image.json');
const REF_NAME = 'org.opencontainers.image.ref.name';

/** A one-file image spec whose content (so digest) depends on `text`. */
async function specFor(text: string): Promise<string> {
  const dir = join(tmp.path, 'specs', text.replace(/\W/g, '_'));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'msg.txt'), `${text}\n`);
  const spec = join(dir, 'image.json');
  await writeFile(
    spec,
    JSON.stringify({
      platform: 'linux/amd64',
      layers: [{ files: { '/msg.txt': 'msg.txt' }, compress: 'gzip' }],
    }),
  );
  return spec;
}

async function ok(args: string[], env: NodeJS.ProcessEnv = {}): Promise<BinRun> {
  const r = await runImg(args, env);
  if (r.code !== 0) throw new Error(`img ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** index.json entries as `tag=digest`. */
async function entries(layout: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  return index.manifests.map(
    (m: { digest: string; annotations?: Record<string, string> }) =>
      `${m.annotations?.[REF_NAME]}=${m.digest}`,
  );
}

function digestOf(r: BinRun): string {
  return r.stdout.trim().split('@').pop()!;
}

function expectOneLineFailure(r: BinRun, message: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
}

describe('img build -o oci:DIR into an existing layout', () => {
  it('keeps the first tag when a second is written, and replaces an image written under the same tag', async () => {
    const layout = join(tmp.path, 'tags');
    const a = digestOf(await ok(['build', await specFor('a'), '-o', `oci:${layout}:v1`]));
    const b = digestOf(await ok(['build', await specFor('b'), '-o', `oci:${layout}:v2`]));
    expect(await entries(layout)).toEqual([`v1=${a}`, `v2=${b}`]);
    const c = digestOf(await ok(['build', await specFor('c'), '-o', `oci:${layout}:v1`]));
    expect(await entries(layout)).toEqual([`v2=${b}`, `v1=${c}`]);
    for (const tag of ['v1', 'v2']) await ok(['validate', `oci:${layout}:${tag}`]);
    expect((await readdir(layout)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('img layout adds to the layout too, and a failed write leaves it exactly as it was', async () => {
    const layout = join(tmp.path, 'layout-cmd');
    await ok(['build', SPEC, '-o', `oci:${layout}:hello`]);
    const w = join(tmp.path, 'layout-cmd-work');
    await mkdir(w);
    await writeFile(join(w, 'f'), 'layer file\n');
    await ok(['layer', join(w, 'l.tgz'), '--add', `/f=${join(w, 'f')}`, '--metadata', join(w, 'l.json')]);
    await ok([
      'manifest',
      '--layer',
      join(w, 'l.json'),
      '--manifest',
      join(w, 'm.json'),
      '--config',
      join(w, 'c.json'),
    ]);
    const args = ['layout', '--manifest', join(w, 'm.json'), '--config', join(w, 'c.json')];
    await ok([...args, '--layer', `${join(w, 'l.json')}=${join(w, 'l.tgz')}`, '-o', `oci:${layout}:small`]);
    expect((await entries(layout)).map((e) => e.split('=')[0])).toEqual(['hello', 'small']);

    const before = await snapshotTree(layout);
    // A blob that does not match its metadata: caught while it is copied into the layout.
    await writeFile(join(w, 'bad.tgz'), Buffer.concat([await readFile(join(w, 'l.tgz')), Buffer.from('x')]));
    await writeFile(join(w, 'f'), 'other content\n');
    await ok(['layer', join(w, 'l2.tgz'), '--add', `/f=${join(w, 'f')}`, '--metadata', join(w, 'l2.json')]);
    await ok([
      'manifest',
      '--layer',
      join(w, 'l2.json'),
      '--manifest',
      join(w, 'm2.json'),
      '--config',
      join(w, 'c2.json'),
    ]);
    const bad = await runImg([
      'layout',
      '--manifest',
      join(w, 'm2.json'),
      '--config',
      join(w, 'c2.json'),
      '--layer',
      `${join(w, 'l2.json')}=${join(w, 'bad.tgz')}`,
      '-o',
      `oci:${layout}:broken`,
    ]);
    expectOneLineFailure(bad, /layer sha256:[0-9a-f]{64}/);
    expect(await snapshotTree(layout)).toEqual(before);
  });
});

describe('a folder that is not a layout', () => {
  it('is refused as -o oci:DIR and left untouched; --force adds the layout beside its files', async () => {
    const sources = join(tmp.path, 'my-project');
    await mkdir(join(sources, 'src'), { recursive: true });
    await writeFile(join(sources, 'src/main.ts'), 'console.log("precious");\n');
    await writeFile(join(sources, 'package.json'), '{"name":"precious"}\n');
    const before = await snapshotTree(sources);
    for (const args of [
      ['build', SPEC, '-o', `oci:${sources}`],
      ['layout', '--manifest', '/nonexistent.json', '-o', `oci:${sources}`],
    ]) {
      const r = await runImg(args);
      expectOneLineFailure(r, new RegExp(`^img: ${sources}: not empty and not an OCI image layout.*--force`));
      expect(await snapshotTree(sources)).toEqual(before);
    }
    await ok(['build', SPEC, '-o', `oci:${sources}`, '--force']);
    expect(await readFile(join(sources, 'src/main.ts'), 'utf8')).toBe('console.log("precious");\n');
    expect(await readFile(join(sources, 'package.json'), 'utf8')).toBe('{"name":"precious"}\n');
    await ok(['validate', `oci:${sources}`]);
  });
});

describe('two writers of one layout at once', () => {
  it('both images end up in the layout (or one fails with a clean lock error, never silently lost)', async () => {
    for (const round of ['new', 'existing']) {
      const layout = join(tmp.path, `concurrent-${round}`);
      if (round === 'existing') await ok(['build', SPEC, '-o', `oci:${layout}:first`]);
      const specs = [await specFor(`${round}-x`), await specFor(`${round}-y`)];
      const runs = await Promise.all(specs.map((s, i) => runImg(['build', s, '-o', `oci:${layout}:t${i}`])));
      const written: string[] = [];
      for (const [i, r] of runs.entries()) {
        if (r.code === 0) written.push(`t${i}=${digestOf(r)}`);
        else expectOneLineFailure(r, new RegExp(`^img: ${layout}: layout is being written by img process`));
      }
      expect(written.length).toBeGreaterThan(0);
      const now = await entries(layout);
      for (const w of written) expect(now).toContain(w);
      for (const w of written) await ok(['validate', `oci:${layout}:${w.split('=')[0]}`]);
      expect(await readdir(layout)).not.toContain('.img.lock');
    }
  });

  it('fails in one line naming the folder while a live writer holds the lock; takes over a dead one', async () => {
    const layout = join(tmp.path, 'locked');
    await ok(['build', SPEC, '-o', `oci:${layout}:one`]);
    const lock = join(layout, '.img.lock');
    const live = { pid: process.pid, host: hostname(), created: new Date().toISOString() };
    await writeFile(lock, JSON.stringify(live));
    const before = await snapshotTree(layout);
    const r = await runImg(['build', await specFor('locked'), '-o', `oci:${layout}:two`], {
      IMG_LOCK_TIMEOUT: '1',
    });
    expectOneLineFailure(
      r,
      new RegExp(`^img: ${layout}: layout is being written by img process ${process.pid}`),
    );
    expect(await snapshotTree(layout)).toEqual(before);

    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(lock, JSON.stringify({ ...live, pid: dead }));
    await ok(['build', await specFor('locked'), '-o', `oci:${layout}:two`], { IMG_LOCK_TIMEOUT: '1' });
    expect((await entries(layout)).map((e) => e.split('=')[0])).toEqual(['one', 'two']);
    expect(await readdir(layout)).not.toContain('.img.lock');
  });
});

const tools = ciRequires('docker-registry');

describe.skipIf(tools.skip)('img pull -o DIR', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
  });
  afterAll(() => registry?.stop());

  it('adds the pulled image to an existing layout and refuses a folder that is not one', async () => {
    const built = join(tmp.path, 'to-push');
    await ok(['build', await specFor('pushed'), '-o', `oci:${built}`]);
    const ref = `${registry.url}/outputs/pulled:1`;
    const env = { IMG_CACHE_DIR: join(tmp.path, 'cache') };
    await ok(['push', `oci:${built}`, ref], env);

    const layout = join(tmp.path, 'pull-into');
    const local = digestOf(await ok(['build', SPEC, '-o', `oci:${layout}:local`]));
    const pulled = digestOf(await ok(['pull', ref, '-o', layout, '--layers'], env));
    expect(await entries(layout)).toEqual([`local=${local}`, `1=${pulled}`]);
    await ok(['validate', `oci:${layout}:local`]);
    await ok(['validate', `oci:${layout}:1`]);

    const sources = join(tmp.path, 'pull-sources');
    await mkdir(sources);
    await writeFile(join(sources, 'keep.txt'), 'keep\n');
    const r = await runImg(['pull', ref, '-o', sources], env);
    expectOneLineFailure(r, new RegExp(`^img: ${sources}: not empty and not an OCI image layout`));
    expect(await snapshotTree(sources)).toEqual({ 'keep.txt': 'keep\n' });
  });
});
