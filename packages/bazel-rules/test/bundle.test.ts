import { spawn } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { parseLayerMetadata } from '@img/oci-spec';
import { run, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { IMG_BUNDLE } from './bazel.js';

// The CLI bundle the ruleset ships: one self-contained file, a JSON persistent worker.
const tmp = useTempDir('bazel-bundle-');

async function worker(
  bundle: string,
  requests: object[],
  cwd: string,
): Promise<{ lines: string[]; stderr: string }> {
  const child = spawn(process.execPath, [bundle, '--persistent_worker'], {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  for (const r of requests) child.stdin.write(`${JSON.stringify(r)}\n`);
  child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, stderr).toBe(0);
  return { lines: stdout.trimEnd().split('\n'), stderr };
}

describe('img/private/img.cjs', () => {
  it('runs on its own, away from node_modules (zstd wasm inlined)', async () => {
    const bundle = tmp.join('img.cjs');
    await copyFile(IMG_BUNDLE, bundle);
    await writeFile(tmp.join('f.txt'), 'zstd please\n'.repeat(1000));
    const r = await run(
      process.execPath,
      [bundle, 'layer', '--add=f.txt=f.txt', '--format=zstd', '--metadata=m.json', 'l.tar.zst'],
      {
        cwd: tmp.path,
      },
    );
    expect(r.stdout).toMatch(/^sha256:/);
    const meta = parseLayerMetadata(await readFile(tmp.join('m.json')), 'm.json');
    expect(meta.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(meta.size).toBeLessThan(meta.uncompressed_size ?? Number.POSITIVE_INFINITY);
    // Assembling a manifest checks it against the image-spec schemas: ajv comes from the bundle too.
    const manifest = await run(
      process.execPath,
      [bundle, 'manifest', '--layer=m.json', '--manifest=man.json', '--config=c.json'],
      { cwd: tmp.path, allowFailure: true },
    );
    expect(manifest.stderr).toBe('');
    expect(manifest.code).toBe(0);
    expect(JSON.parse(await readFile(tmp.join('man.json'), 'utf8')).layers).toHaveLength(1);
  });

  it('serves WorkRequests on stdin with only WorkResponses on stdout', async () => {
    await writeFile(tmp.join('g.txt'), 'g');
    const { lines, stderr } = await worker(
      IMG_BUNDLE,
      [
        { arguments: ['layer', '--add=g=g.txt', '--metadata=g.json', 'g.tgz'] },
        { arguments: ['--help'], requestId: 0 },
        { arguments: ['layer', '--add=../g=g.txt', '--metadata=h.json', 'h.tgz'] },
        { arguments: ['manifest', '--layer=g.json', '--manifest=m.json', '--config=c.json'] },
      ],
      tmp.path,
    );
    const responses = lines.map((l) => JSON.parse(l));
    expect(responses.map((r) => r.exitCode)).toEqual([0, 0, 1, 0]);
    expect(responses[2].output).toMatch(/escapes the layer root/);
    expect(stderr).toMatch(/Usage: img/);
    const manifest = JSON.parse(await readFile(tmp.join('m.json'), 'utf8'));
    expect(manifest.layers).toHaveLength(1);
  });

  it('expands a Bazel param file for one-shot (non-worker) actions and stays silent on success', async () => {
    await writeFile(tmp.join('p.txt'), 'p');
    await writeFile(tmp.join('params'), 'layer\n--add=p=p.txt\n--metadata=p.json\np.tgz\n');
    const r = await run(process.execPath, [IMG_BUNDLE, '@params'], { cwd: tmp.path });
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(parseLayerMetadata(await readFile(tmp.join('p.json')), 'p.json').digest).toMatch(/^sha256:/);
    await writeFile(tmp.join('bad'), 'layer\n--add=p=missing.txt\n--metadata=q.json\nq.tgz\n');
    const bad = await run(process.execPath, [IMG_BUNDLE, '@bad'], { cwd: tmp.path, allowFailure: true });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/missing\.txt/);
  });
});
