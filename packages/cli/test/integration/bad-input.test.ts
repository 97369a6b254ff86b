import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DIR, img, imgOk } from '../helpers.js';

const tmp = useTempDir('img-cli-bad-');

async function specFile(name: string, spec: unknown): Promise<string> {
  const path = join(tmp.path, name, 'image.json');
  await mkdir(join(tmp.path, name), { recursive: true });
  await writeFile(path, typeof spec === 'string' ? spec : JSON.stringify(spec));
  await writeFile(join(tmp.path, name, 'a.txt'), 'a');
  await writeFile(join(tmp.path, name, 'b.txt'), 'b');
  return path;
}

/** Build must fail with exit 1, a one-line message matching `message`, and leave no output behind. */
async function expectBuildFails(spec: string, message: RegExp): Promise<void> {
  const outDir = join(tmp.path, 'outs');
  await mkdir(outDir, { recursive: true });
  const before = await readdir(outDir);
  for (const output of [`oci:${join(outDir, 'o')}`, `oci-archive:${join(outDir, 'o.tar')}`]) {
    const r = await img('build', spec, '--output', output);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n')).toHaveLength(1);
  }
  expect(await readdir(outDir)).toEqual(before);
}

describe('bad input to img build', () => {
  it('rejects a path escaping the layer root, naming it', async () => {
    const spec = await specFile('escape', {
      platform: 'linux/amd64',
      layers: [{ files: { '/app/../../etc/passwd': 'a.txt' } }],
    });
    await expectBuildFails(spec, /\/app\/\.\.\/\.\.\/etc\/passwd/);
  });

  it('rejects a missing source file, naming it', async () => {
    const spec = await specFile('missing', {
      platform: 'linux/amd64',
      layers: [{ files: { '/app/x': 'nope.txt' } }],
    });
    await expectBuildFails(spec, /nope\.txt/);
  });

  it('rejects duplicate paths with conflicting content', async () => {
    const spec = await specFile('dup', {
      platform: 'linux/amd64',
      layers: [{ files: { '/app/x': 'a.txt', 'app/x': 'b.txt' } }],
    });
    await expectBuildFails(spec, /app\/x/);
  });

  it('rejects invalid JSON and unknown fields, naming the file and field', async () => {
    await expectBuildFails(
      await specFile('json', '{"platform": "linux/amd64",'),
      /image spec .*image\.json: invalid JSON/,
    );
    const unknown = await specFile('field', { platform: 'linux/amd64', layerz: [] });
    await expectBuildFails(unknown, /image\.json: layerz: unknown key \(expected one of /);
  });

  it('rejects an unknown compression', async () => {
    const spec = await specFile('compress', {
      platform: 'linux/amd64',
      layers: [{ files: { '/x': 'a.txt' }, compress: 'brotli' }],
    });
    await expectBuildFails(
      spec,
      /layers\[0\]\.compress: must be one of "gzip", "zstd", "none", not "brotli"/,
    );
  });

  it('rejects a base of another platform', async () => {
    const base = join(tmp.path, 'base-amd64');
    await imgOk('build', join(EXAMPLE_DIR, 'image.json'), '--output', `oci:${base}`);
    const spec = await specFile('platform', { platform: 'linux/arm64', base: `oci:${base}`, layers: [] });
    await expectBuildFails(spec, /base-amd64 has no image for linux\/arm64\/v8 \(it has linux\/amd64\)/);
  });

  it('rejects a bad platform and a bad output target', async () => {
    const spec = await specFile('badplat', { platform: 'linux', layers: [] });
    await expectBuildFails(spec, /platform: invalid platform "linux"/);
    const r = await img('build', spec, '--output', 'tarball:/tmp/x');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/expected oci:DIR, oci-archive:FILE or docker-archive/);
  });

  it('reports usage errors with exit code 2', async () => {
    const r = await img('build', '--output', 'oci:/tmp/never');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument 'spec'/);
    const f = await img('layer', 'out.tgz', '--metadata', 'm.json', '--nope');
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/unknown option '--nope'/);
    const h = await img('layer', '--help');
    expect(h.code).toBe(0);
  });
});
