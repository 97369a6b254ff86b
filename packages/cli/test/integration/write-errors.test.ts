import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, run, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BinRun, runImg } from '../bin.js';
import { EXAMPLE_DIR } from '../helpers.js';

const tmp = useTempDir('img-cli-write-errors-');
const SPEC = join(EXAMPLE_DIR, 'image.json');

function expectOneLine(r: BinRun, line: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr.trimEnd()).toMatch(line);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('errors on output paths', () => {
  it('a directory where a file goes: one line naming it, and no output left (EISDIR)', async () => {
    const dir = join(tmp.path, 'isdir');
    await mkdir(join(dir, 'taken'), { recursive: true });
    const archive = await runImg(['build', SPEC, '-o', `oci-archive:${join(dir, 'taken')}`]);
    expectOneLine(
      archive,
      new RegExp(`^img: ${join(dir, 'taken')}: cannot write: is a directory \\(EISDIR\\)$`),
    );

    const meta = await runImg([
      'layer',
      join(dir, 'l.tgz'),
      '--add',
      `/x=${SPEC}`,
      '--metadata',
      join(dir, 'taken'),
    ]);
    expectOneLine(
      meta,
      new RegExp(`^img: ${join(dir, 'taken')}: cannot write: is a directory \\(EISDIR\\)$`),
    );
    expect(await readdir(dir)).toEqual(['taken']);

    const input = await runImg([
      'manifest',
      '--layer',
      dir,
      '--manifest',
      join(dir, 'm'),
      '--config',
      join(dir, 'c'),
    ]);
    expectOneLine(input, new RegExp(`^img: --layer ${dir}: is a directory \\(EISDIR\\)$`));
  });

  it('layer-from-tar --output O of a corrupt tar fails in one line and leaves no O', async () => {
    const dir = join(tmp.path, 'corrupt');
    await mkdir(dir);
    // A gzip header, then garbage: detected as gzip, fails while it is measured.
    const bad = join(dir, 'bad.tar.gz');
    await writeFile(
      bad,
      Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), randomBytes(4096)]),
    );
    const r = await runImg([
      'layer-from-tar',
      bad,
      '--output',
      join(dir, 'O'),
      '--metadata',
      join(dir, 'O.json'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['bad.tar.gz']);
  });

  it('prints the stack trace and causes only with IMG_DEBUG set', async () => {
    const dir = join(tmp.path, 'debug');
    await mkdir(join(dir, 'taken'), { recursive: true });
    const r = await runImg(['build', SPEC, '-o', `oci-archive:${join(dir, 'taken')}`], { IMG_DEBUG: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/cannot write: is a directory \(EISDIR\)$/);
    expect(r.stderr).toMatch(/\n\s+at /);
    expect(r.stderr).toMatch(/caused by:\nError: EISDIR/);
  });
});

const needs = ciRequires('mount', 'umount', { root: true });

describe.skipIf(needs.skip)('errors of the file system (tmpfs mounts)', () => {
  const mounts: string[] = [];
  let full: string;
  let readOnly: string;
  let bigSpec: string;
  const bigFile = () => join(tmp.path, 'big.bin');

  async function mountTmpfs(dir: string, options: string): Promise<string> {
    await mkdir(dir);
    await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    mounts.push(dir);
    return dir;
  }

  beforeAll(async () => {
    full = await mountTmpfs(join(tmp.path, 'full'), 'size=1m');
    readOnly = await mountTmpfs(join(tmp.path, 'ro'), 'ro,size=1m');
    await writeFile(bigFile(), randomBytes(3 * 1024 * 1024));
    bigSpec = join(tmp.path, 'big.json');
    await writeFile(
      bigSpec,
      JSON.stringify({
        platform: 'linux/amd64',
        layers: [{ files: { '/big': bigFile() }, compress: 'none' }],
      }),
    );
  });
  afterAll(async () => {
    for (const dir of mounts) await run('umount', [dir]);
  });

  it('a full disk (ENOSPC): one line naming the output, exit 1, nothing left on the disk', async () => {
    const layer = await runImg([
      'layer',
      join(full, 'l.tar'),
      '--format',
      'none',
      '--add',
      `/big=${bigFile()}`,
      '--metadata',
      join(full, 'l.json'),
    ]);
    expectOneLine(
      layer,
      new RegExp(`^img: ${full}/l.tar: cannot write: no space left on device \\(ENOSPC\\)$`),
    );
    expect(await readdir(full)).toEqual([]);

    const layout = await runImg(['build', bigSpec, '-o', `oci:${join(full, 'layout')}`]);
    expectOneLine(
      layout,
      new RegExp(
        `^img: ${full}/layout/blobs/sha256/[0-9a-f]{64}: cannot write: no space left on device \\(ENOSPC\\)$`,
      ),
    );
    expect(await readdir(full)).toEqual([]);

    const archive = await runImg(['build', bigSpec, '-o', `oci-archive:${join(full, 'a.tar')}`]);
    expectOneLine(
      archive,
      new RegExp(`^img: ${full}/a.tar: cannot write: no space left on device \\(ENOSPC\\)$`),
    );
    expect(await readdir(full)).toEqual([]);
  });

  it('a read-only file system (EROFS): one line naming the output, exit 1', async () => {
    const layer = await runImg([
      'layer',
      join(readOnly, 'l.tgz'),
      '--add',
      `/x=${SPEC}`,
      '--metadata',
      join(readOnly, 'l.json'),
    ]);
    expectOneLine(
      layer,
      new RegExp(`^img: ${readOnly}/l.tgz: cannot write: read-only file system \\(EROFS\\)$`),
    );
    const layout = await runImg(['build', SPEC, '-o', `oci:${join(readOnly, 'layout')}`]);
    expectOneLine(
      layout,
      new RegExp(`^img: ${readOnly}/layout: cannot create: read-only file system \\(EROFS\\)$`),
    );
    const index = await runImg([
      'index',
      '--manifest-descriptor',
      join(tmp.path, 'none.json'),
      '--output',
      join(readOnly, 'i.json'),
    ]);
    expectOneLine(index, /^img: --manifest-descriptor .*none\.json: no such file$/);
  });
});
