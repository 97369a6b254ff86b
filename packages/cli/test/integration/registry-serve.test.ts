import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ciRequires, freePort, run, startBuildGrid, type TestBuildGrid, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipExampleSpec, img, imgOk, REPO_ROOT } from '../helpers.js';

const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.cjs');
const tmp = useTempDir('img-cli-registry-serve-');

interface Served {
  child: ChildProcess;
  address: string;
  stderr: string[];
}

/** `img registry serve` as its own process; resolves with the address it prints once it listens. */
async function serve(storage: string, ...extra: string[]): Promise<Served> {
  const child = spawn(
    process.execPath,
    [BIN, 'registry', 'serve', '--port', '0', '--storage', storage, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const lines = createInterface({ input: child.stdout! });
  const [address] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`img registry serve exited ${code}: ${stderr.join('\n')}`);
    }),
  ])) as [string];
  return { child, address, stderr };
}

async function stop(s: Served): Promise<number | null> {
  s.child.kill('SIGTERM');
  const [code] = await once(s.child, 'exit');
  return code as number | null;
}

describe('img registry serve', () => {
  let served: Served | undefined;
  beforeAll(() => {
    process.env.IMG_CACHE_DIR = tmp.join('cache');
  });
  afterAll(async () => {
    if (served && served.child.exitCode === null) await stop(served);
  });

  it('serves img push and img pull, stops on SIGTERM, and keeps every tag across a restart', async () => {
    const storage = tmp.join('storage');
    served = await serve(storage);
    expect(served.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const layout = tmp.join('hello');
    await imgOk('build', await gzipExampleSpec(tmp.path), '--output', `oci:${layout}`);
    const pushed = JSON.parse(
      (await imgOk('push', `oci:${layout}`, `${served.address}/img/hello:1`, '--tag', 'latest', '--json'))
        .stdout,
    );
    expect(pushed.blobsUploaded).toBe(3);
    const again = JSON.parse(
      (await imgOk('push', `oci:${layout}`, `${served.address}/img/hello:1`, '--json')).stdout,
    );
    expect(again).toMatchObject({ blobsUploaded: 0, bytesUploaded: 0 });
    // Into another repository: mounted, not uploaded.
    const other = JSON.parse(
      (await imgOk('push', `oci:${layout}`, `${served.address}/img/other:1`, '--json')).stdout,
    );
    expect(other).toMatchObject({ blobsUploaded: 0, blobsMounted: 3 });

    expect(await stop(served)).toBe(0);
    expect(served.stderr.join('\n')).toMatch(/stopped \(SIGTERM\)/);

    served = await serve(storage);
    for (const tag of ['1', 'latest']) {
      const out = tmp.join(`pulled-${tag}`);
      const r = await imgOk('pull', `${served.address}/img/hello:${tag}`, '--output', out, '--layers');
      expect(r.stdout).toBe(`${served.address}/img/hello@${pushed.digest}`);
      await imgOk('validate', out);
    }
    const index = JSON.parse(await readFile(join(tmp.join('pulled-1'), 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(pushed.digest);
  });
});

const buildGrid = ciRequires('bgd');

describe.skipIf(buildGrid.skip)('img registry serve --reapi-endpoint (blobs in BuildGrid)', () => {
  let bg: TestBuildGrid;
  let served: Served | undefined;
  beforeAll(async () => {
    process.env.IMG_CACHE_DIR = tmp.join('cache');
    bg = await startBuildGrid({ instanceNames: ['main'] });
  });
  afterAll(async () => {
    if (served && served.child.exitCode === null) await stop(served);
    await bg?.stop();
  });

  it('keeps blobs in the CAS and tags across a restart; --cas-keepalive logs its passes', async () => {
    const storage = tmp.join('cas-storage');
    const flags = ['--reapi-endpoint', bg.endpoint, '--reapi-instance-name', 'main'];
    served = await serve(
      storage,
      ...flags,
      '--cas-keepalive',
      '--cas-keepalive-interval',
      '200ms',
      '--verbose',
    );
    const layout = tmp.join('cas-hello');
    await imgOk('build', await gzipExampleSpec(tmp.path), '--output', `oci:${layout}`);
    const pushed = JSON.parse(
      (await imgOk('push', `oci:${layout}`, `${served.address}/img/cas:1`, '--json')).stdout,
    );
    expect(pushed.blobsUploaded).toBe(3);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    const manifest = JSON.parse(
      await readFile(join(layout, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'),
    );
    for (const blob of [manifest.config, ...manifest.layers]) {
      expect(await readFile(bg.blobPath(blob.digest.slice(7), 'main'))).toHaveLength(blob.size);
    }
    await new Promise((r) => setTimeout(r, 600));
    expect(served.stderr.join('\n')).toMatch(/keepalive: 3 of 3 live blobs refreshed/);
    expect(await stop(served)).toBe(0);

    served = await serve(storage, ...flags);
    expect(served.stderr.join('\n')).toContain(`blobs in ${bg.endpoint} instance main`);
    const out = tmp.join('cas-pulled');
    const r = await imgOk('pull', `${served.address}/img/cas:1`, '--output', out, '--layers');
    expect(r.stdout).toBe(`${served.address}/img/cas@${pushed.digest}`);
    await imgOk('validate', out);
    expect(await stop(served)).toBe(0);
  });

  it('refuses conflicting flags and an unreachable cache with one line, exit non-zero', async () => {
    const both = await img(
      'registry',
      'serve',
      '--storage',
      tmp.join('x'),
      '--blobs',
      tmp.join('b'),
      '--reapi-endpoint',
      bg.endpoint,
    );
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/--blobs and --reapi-endpoint/);
    const orphan = await img('registry', 'serve', '--storage', tmp.join('x'), '--cas-keepalive');
    expect(orphan.stderr).toMatch(/--cas-keepalive needs --reapi-endpoint/);
    const port = await freePort();
    const dead = await run(
      process.execPath,
      [
        BIN,
        'registry',
        'serve',
        '--port',
        '0',
        '--storage',
        tmp.join('dead'),
        '--reapi-endpoint',
        `grpc://127.0.0.1:${port}`,
      ],
      { allowFailure: true, timeoutMs: 120_000 },
    );
    expect(dead.code).not.toBe(0);
    expect(dead.stderr.trim().split('\n')).toHaveLength(1);
    expect(dead.stderr).toContain(`127.0.0.1:${port}`);
  });
});
