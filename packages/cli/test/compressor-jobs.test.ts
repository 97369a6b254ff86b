import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { parseLayerMetadata } from '@img/oci-spec';
import { toolAvailable, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { img, imgOk } from './helpers.js';

const tmp = useTempDir('cli-compressor-jobs-');
const hasGzip = toolAvailable('gzip');
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let dataWritten: Promise<void> | undefined;

/** ~2.5 MiB of text-like data: three 1 MiB gzip blocks. */
async function dataFile(): Promise<string> {
  const path = tmp.join('data.txt');
  dataWritten ??= (async () => {
    const lines: string[] = [];
    for (let i = 0, size = 0; size < 2_600_000; i++) {
      lines.push(`line ${i} ${(i * 7919) % 10007}\n`);
      size += lines[i]!.length;
    }
    await writeFile(path, lines.join(''));
  })();
  await dataWritten;
  return path;
}

async function layer(name: string, ...flags: string[]) {
  await imgOk(
    'layer',
    `--add=/app/data.txt=${await dataFile()}`,
    `--metadata=${tmp.join(`${name}.json`)}`,
    ...flags,
    tmp.join(`${name}.tgz`),
  );
  return parseLayerMetadata(await readFile(tmp.join(`${name}.json`)), name);
}

describe('img layer --compressor-jobs', () => {
  it('N and nproc give one gzip layer, the same for every N; the tar (diff_id) is unchanged', async () => {
    const classic = await layer('classic');
    const one = await layer('j1', '--compressor-jobs', '1');
    const two = await layer('j2', '--compressor-jobs=2');
    const nproc = await layer('jn', '--compressor-jobs', 'nproc');
    expect(two.digest).toBe(one.digest);
    expect(nproc.digest).toBe(one.digest);
    expect(two.digest).toBe(sha256(await readFile(tmp.join('j2.tgz'))));
    expect(two.digest).not.toBe(classic.digest);
    expect(two.diff_id).toBe(classic.diff_id);
    if (!hasGzip) return;
    execFileSync('gzip', ['-t', tmp.join('j2.tgz')]);
    expect(sha256(execFileSync('gzip', ['-dc', tmp.join('j2.tgz')], { maxBuffer: 1 << 26 }))).toBe(
      classic.diff_id,
    );
  });

  it('zstd follows the job count with unchanged bytes', async () => {
    const base = await layer('z', '--format=zstd');
    const three = await layer('z3', '--format=zstd', '--compressor-jobs=3');
    expect(three.digest).toBe(base.digest);
  });

  it('rejects 0, abc and fractions, naming the flag, and writes nothing', async () => {
    for (const bad of ['0', 'abc', '1.5', '-2', '257']) {
      const before = await readdir(tmp.path);
      const r = await img(
        'layer',
        `--add=/x=${await dataFile()}`,
        '--compressor-jobs',
        bad,
        `--metadata=${tmp.join('bad.json')}`,
        tmp.join('bad.tgz'),
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `--compressor-jobs ${JSON.stringify(bad)}: expected an integer from 1 to 256 or "nproc"`,
      );
      expect(await readdir(tmp.path)).toEqual(before);
    }
  });
});

describe('img layer-from-tar --compressor-jobs', () => {
  it('recompresses a tar to the gzip blocks of img layer --compressor-jobs, for every N', async () => {
    const viaLayer = await layer('ft-ref', '--compressor-jobs=2');
    await layer('ft-tar', '--format=none');
    const tar = tmp.join('ft-tar.tgz');
    const digests = new Set<string>();
    for (const jobs of ['1', '3']) {
      const out = tmp.join(`ft-${jobs}.tgz`);
      const meta = tmp.join(`ft-${jobs}.json`);
      await imgOk(
        'layer-from-tar',
        tar,
        '--format=gzip',
        `--compressor-jobs=${jobs}`,
        `--output=${out}`,
        `--metadata=${meta}`,
      );
      digests.add(parseLayerMetadata(await readFile(meta), meta).digest);
    }
    expect([...digests]).toEqual([viaLayer.digest]);
  });
});

describe('img build: compressorJobs in a spec layer', () => {
  async function spec(name: string, compressorJobs: unknown): Promise<string> {
    const path = tmp.join(`${name}.json`);
    const layerSpec = { files: { '/app/data.txt': await dataFile() }, compressorJobs };
    await writeFile(path, JSON.stringify({ platform: 'linux/amd64', layers: [layerSpec] }));
    return path;
  }

  async function layerDigest(layout: string): Promise<string> {
    const index = JSON.parse(await readFile(`${layout}/index.json`, 'utf8'));
    const m = index.manifests[0].digest.replace(':', '/');
    const manifest = JSON.parse(await readFile(`${layout}/blobs/${m}`, 'utf8'));
    return manifest.layers[0].digest;
  }

  it('builds the same gzip layer as img layer --compressor-jobs', async () => {
    const viaLayer = await layer('spec-ref', '--compressor-jobs=2');
    for (const jobs of [4, 'nproc']) {
      const out = tmp.join(`layout-${jobs}`);
      await imgOk('build', await spec(`spec-${jobs}`, jobs), '--output', `oci:${out}`);
      expect(await layerDigest(out)).toBe(viaLayer.digest);
    }
  });

  it('rejects a bad compressorJobs naming the field', async () => {
    for (const [bad, message] of [
      [0, /layers\[0\]\.compressorJobs: must be >= 1, got 0$/],
      ['abc', /layers\[0\]\.compressorJobs: "abc" is not valid \(e\.g\. "nproc"\)$/],
      [1.5, /layers\[0\]\.compressorJobs: must be an integer or a string, not the number 1\.5/],
    ] as const) {
      const r = await img('build', await spec('bad-spec', bad), '--output', `oci:${tmp.join('bad-out')}`);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
