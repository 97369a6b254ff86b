import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { canonicalJsonBytes, type Descriptor, type Digest, MediaType, sha256Digest } from '@img/oci-spec';
import { RegistryClient } from '@img/registry-client';
import { connectRemoteCache, type RemoteCache } from '@img/remote-cache';
import {
  ciRequires,
  run,
  startBuildGrid,
  startRegistry,
  type TestBuildGrid,
  type TestRegistry,
  tarFile,
} from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CasPushRequest, casPushCommitter, type PushCommitter } from '../../src/index.js';

const needs = ciRequires('bgd', 'docker-registry', 'crane');

/** A gzip layer of one file: its blob and its diff_id. */
function layer(name: string, content: Uint8Array) {
  const tar = tarFile([{ name, content }]);
  const blob = gzipSync(tar, { level: 1 });
  return { blob, desc: descriptorOf(MediaType.OciLayerGzip, blob), diffId: sha256Digest(tar) };
}

function descriptorOf(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length };
}

/** A push request as img_rules writes it for bes (only the fields the listener reads here). */
function parseRequest(bytes: Uint8Array, where: string): CasPushRequest {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  if (doc.strategy !== 'bes') throw new Error(`${where}: not a bes request`);
  return {
    registry: doc.registry,
    repository: doc.repository,
    tags: doc.tags,
    root: doc.root,
    locations: new Map(Object.entries(doc.blobs ?? {})) as Map<Digest, never>,
  };
}

describe.skipIf(needs.skip)('push from the remote cache (BuildGrid) to docker-registry', () => {
  let grid: TestBuildGrid;
  let registry: TestRegistry;
  let cache: RemoteCache;
  let client: RegistryClient;
  let commit: PushCommitter;

  beforeAll(async () => {
    [grid, registry] = await Promise.all([startBuildGrid({ instanceNames: [''] }), startRegistry()]);
    cache = connectRemoteCache(grid.endpoint);
    client = new RegistryClient({ insecure: true });
    commit = casPushCommitter({
      remoteCache: () => cache,
      registry: client,
      parseRequest,
      uploadGraceMs: [100, 200],
    });
  });
  afterAll(async () => {
    cache?.close();
    await client?.close();
    await Promise.all([grid?.stop(), registry?.stop()]);
  });

  /** An image whose blobs are in the CAS (a build wrote them), and its BES push request. */
  async function imageInCas(
    repository: string,
    options: { base?: ReturnType<typeof layer>; skipLayer?: boolean } = {},
  ) {
    const built = [layer('big', randomBytes(5 * 1024 * 1024)), layer('small', randomBytes(1000))];
    const layers = built.map((l) => l.blob);
    const layerDescs = built.map((l) => l.desc);
    const baseLayer = options.base?.desc;
    const config = canonicalJsonBytes({
      architecture: 'amd64',
      os: 'linux',
      rootfs: {
        type: 'layers',
        diff_ids: [...(options.base ? [options.base] : []), ...built].map((l) => l.diffId),
      },
    });
    const configDesc = descriptorOf(MediaType.OciConfig, config);
    const manifest = canonicalJsonBytes({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: configDesc,
      layers: [...(baseLayer ? [baseLayer] : []), ...layerDescs],
    });
    const root = descriptorOf(MediaType.OciManifest, manifest);
    const blobs: Array<[Descriptor, Uint8Array]> = [
      [configDesc, config],
      [root, manifest],
    ];
    layers.forEach((l, i) => {
      if (!(options.skipLayer && i === 0)) blobs.push([layerDescs[i]!, l]);
    });
    for (const [d, bytes] of blobs) await cache.writeBlob(d, bytes);
    const request = canonicalJsonBytes({
      command: 'push',
      strategy: 'bes',
      registry: registry.url,
      repository,
      tags: ['1', 'latest'],
      root,
      ...(baseLayer
        ? { blobs: { [baseLayer.digest]: [{ registry: registry.url, repository: 'base/img' }] } }
        : {}),
    });
    const requestBlob = { digest: sha256Digest(request), size: request.length };
    await cache.writeBlob(requestBlob, request);
    return {
      root,
      layerDescs,
      job: { label: `//${repository}:push`, request: { ...requestBlob, name: 'push_bes_request.json' } },
    };
  }

  it('pushes the image from the CAS; crane validates it; a second push sends nothing', async () => {
    const { root, job } = await imageInCas('bes/app');
    const signal = new AbortController().signal;
    const first = await commit(job, { signal });
    expect(first.references).toEqual([
      `${registry.url}/bes/app:1@${root.digest}`,
      `${registry.url}/bes/app:latest@${root.digest}`,
    ]);
    expect(first.blobsUploaded).toBe(3);
    await run('crane', ['validate', '--remote', `${registry.url}/bes/app:1`, '--insecure']);

    const before = (await registry.requests()).length;
    const second = await commit(job, { signal });
    expect(second).toMatchObject({ blobsUploaded: 0, bytesUploaded: 0, manifestsPushed: 0 });
    const requests = (await registry.requests()).slice(before);
    expect(requests.every((r) => r.method === 'HEAD' || r.method === 'GET')).toBe(true);
  });

  it('a base layer the CAS lacks comes from the registry the request names (mounted, never read here)', async () => {
    const baseLayer = layer('base', randomBytes(2000));
    const base = baseLayer.blob;
    const baseDesc = baseLayer.desc;
    const { job } = await imageInCas('bes/derived', { base: baseLayer });
    // Put the base layer into the registry under base/img, as a pulled base would be.
    const session = await fetch(`${registry.baseUrl}/v2/base/img/blobs/uploads/`, { method: 'POST' });
    const location = new URL(session.headers.get('location')!, registry.baseUrl);
    location.searchParams.set('digest', baseDesc.digest);
    const upload = await fetch(location, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: base,
    });
    expect(upload.status).toBe(201);
    await commit(job, { signal: new AbortController().signal });
    await run('crane', ['validate', '--remote', `${registry.url}/bes/derived:1`, '--insecure']);
    const mounts = (await registry.requests()).filter((r) =>
      decodeURIComponent(r.uri).includes(`mount=${baseDesc.digest}`),
    );
    expect(mounts.map((r) => r.status)).toEqual([201]);
  });

  it('a layer the CAS lost and no registry holds fails before anything is pushed, naming it', async () => {
    const { layerDescs, job } = await imageInCas('bes/evicted', { skipLayer: true });
    const before = (await registry.requests()).length;
    await expect(commit(job, { signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'IMG_BES_BLOB_UNAVAILABLE',
      message: expect.stringContaining(layerDescs[0]!.digest),
    });
    expect((await registry.requests()).slice(before)).toEqual([]);
  });

  it('a request that reaches the CAS shortly after Bazel reported the target (background upload) is pushed', async () => {
    const { job } = await imageInCas('bes/late');
    const path = grid.blobPath(job.request.digest.slice(7));
    const bytes = await readFile(path);
    await rm(path);
    const late = casPushCommitter({
      remoteCache: () => cache,
      registry: client,
      parseRequest,
      uploadGraceMs: [400, 800],
    });
    const pushed = late(job, { signal: new AbortController().signal });
    await new Promise((r) => setTimeout(r, 200));
    await cache.writeBlob(job.request, bytes);
    await expect(pushed).resolves.toMatchObject({ manifestsPushed: 2 });
  });

  it('a request missing from the CAS is IMG_BES_PUSH_REQUEST, not retried as transient', async () => {
    const { job } = await imageInCas('bes/gone');
    await rm(grid.blobPath(job.request.digest.slice(7)));
    const other = casPushCommitter({
      remoteCache: () => cache,
      registry: client,
      parseRequest,
      uploadGraceMs: [],
    });
    await expect(other(job, { signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'IMG_BES_PUSH_REQUEST',
      message: expect.stringContaining('is not in the remote cache'),
    });
  });
});
