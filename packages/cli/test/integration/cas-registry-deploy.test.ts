import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readLayout } from '@img/oci-layout';
import { type Descriptor, reachableDescriptors } from '@img/oci-spec';
import { connectRemoteCache } from '@img/remote-cache';
import { ciRequires, startBuildGrid, type TestBuildGrid, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipExampleSpec, img, imgOk, REPO_ROOT } from '../helpers.js';

// `img deploy` with strategy cas_registry against `img registry serve --reapi-endpoint` on a real
// BuildGrid: layers a build wrote to the cache are never sent; one the cache lacks fails naming it.
const needs = ciRequires('bgd');
const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.cjs');
const tmp = useTempDir('img-cli-cas-deploy-');

describe.skipIf(needs.skip)('img deploy: the cas_registry strategy', () => {
  let grid: TestBuildGrid;
  let registry: ChildProcess;
  let address: string;

  beforeAll(async () => {
    process.env.IMG_CACHE_DIR = tmp.join('cache');
    grid = await startBuildGrid({ instanceNames: [''] });
    registry = spawn(
      process.execPath,
      [
        BIN,
        'registry',
        'serve',
        '--port',
        '0',
        '--storage',
        tmp.join('storage'),
        '--reapi-endpoint',
        grid.endpoint,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    [address] = (await once(createInterface({ input: registry.stdout! }), 'line')) as [string];
  });
  afterAll(async () => {
    registry?.kill('SIGTERM');
    await grid?.stop();
  });

  /** The example image as a layout, and a deploy request pushing it with cas_registry. */
  async function image(name: string, env: string) {
    const spec = JSON.parse(await readFile(await gzipExampleSpec(tmp.path), 'utf8'));
    spec.config = { ...spec.config, env: { WHICH: env } };
    const specPath = tmp.join(`${name}.json`);
    await writeFile(specPath, JSON.stringify(spec));
    const layout = tmp.join(name);
    await imgOk('build', specPath, '--output', `oci:${layout}`);
    const request = tmp.join(`${name}-request.json`);
    await writeFile(
      request,
      JSON.stringify({
        version: 1,
        command: 'push',
        target: `//app:${name}`,
        layout,
        strategy: 'cas_registry',
        registry: address,
        repository: `cas/${name}`,
        tags: ['v1'],
      }),
    );
    const graph = await readLayout(layout);
    return { request, layers: reachableDescriptors(graph).layers, graph };
  }

  async function writeToCas(layers: readonly Descriptor[], graph: Awaited<ReturnType<typeof readLayout>>) {
    const cache = connectRemoteCache(grid.endpoint);
    try {
      for (const l of layers) await cache.writeBlob(l, { open: () => graph.blobs.get(l.digest)!.open() });
    } finally {
      cache.close();
    }
  }

  it('sends the config and the manifest only; the layers come from the cache the build wrote to', async () => {
    const { request, layers, graph } = await image('built', 'built');
    await writeToCas(layers, graph);
    const run = await imgOk('deploy', request, '--json');
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ blobsUploaded: 1, blobsSkipped: layers.length, manifestsPushed: 1 });
    const layerBytes = layers.reduce((n, l) => n + l.size, 0);
    expect(summary.bytesUploaded).toBeLessThan(2_000);
    expect(layerBytes).toBeGreaterThan(summary.bytesUploaded);
    const pulled = await imgOk('pull', `${address}/cas/built:v1`, '--output', tmp.join('pulled'));
    expect(pulled.code).toBe(0);
  });

  it('a layer the cache evicted: the registry refuses the manifest, and the error says why and what to do', async () => {
    const { request, layers } = await image('lost', 'lost');
    await rm(grid.blobPath(layers[0]!.digest.slice(7)));
    const run = await img('deploy', request);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^img: //app:lost: ${address.replace(/\./g, '\\.')} refused the manifest: .*${layers[0]!.digest.slice(7, 20)}.*The cas_registry strategy sends no layers`,
      ),
    );
  });
});
