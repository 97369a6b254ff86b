import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CACHE_DIR_ENV,
  defaultCacheDir,
  FileBlobLocations,
  MAX_REPOSITORIES_PER_BLOB,
} from './blob-locations.js';

const d = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

describe('FileBlobLocations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'img-blob-locations-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('remembers repositories per registry and blob, the most recent first, a few at most', async () => {
    const a = new FileBlobLocations(dir);
    for (let i = 0; i < MAX_REPOSITORIES_PER_BLOB + 2; i++) await a.record('reg:5000', `repo/${i}`, [d(1)]);
    await a.record('reg:5000', 'repo/1', [d(1), d(2)]);
    const b = new FileBlobLocations(dir);
    const repos = await b.lookup('reg:5000', d(1));
    expect(repos).toHaveLength(MAX_REPOSITORIES_PER_BLOB);
    expect(repos[0]).toBe('repo/1');
    expect(repos.slice(1)).toEqual(['repo/5', 'repo/4', 'repo/3']);
    expect(await b.lookup('reg:5000', d(2))).toEqual(['repo/1']);
    expect(await b.lookup('other:5000', d(1))).toEqual([]);
    // Docker Hub's aliases share one file.
    await b.record('docker.io', 'library/x', [d(3)]);
    expect(await new FileBlobLocations(dir).lookup('index.docker.io', d(3))).toEqual(['library/x']);
    // Nothing but the registry files is left behind (no temp files).
    expect((await readdir(join(dir, 'blob-locations'))).sort()).toEqual([
      'index.docker.io.json',
      'reg%3A5000.json',
    ]);
  });

  it('treats a corrupt or foreign file as empty and replaces it on the next record', async () => {
    await mkdir(join(dir, 'blob-locations'), { recursive: true });
    const path = join(dir, 'blob-locations', 'reg%3A5000.json');
    await writeFile(path, '{ not json');
    const a = new FileBlobLocations(dir);
    expect(await a.lookup('reg:5000', d(1))).toEqual([]);
    await a.record('reg:5000', 'repo/a', [d(1)]);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 1, blobs: { [d(1)]: ['repo/a'] } });
  });

  it('lives under IMG_CACHE_DIR, else XDG_CACHE_HOME/img', () => {
    expect(defaultCacheDir({ [CACHE_DIR_ENV]: '/c/img' })).toBe('/c/img');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/img');
  });
});
