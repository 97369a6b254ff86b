import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { canonicalJsonBytes, type Descriptor, MediaType, sha256Digest } from '@img/oci-spec';
import {
  ciRequires,
  type RunResult,
  run,
  startRegistry,
  type TestRegistry,
  useTempDir,
} from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';
import { escapingDigest, HostileLayout } from '../hostile-layout.js';

const tools = ciRequires('docker-registry');
const tmp = useTempDir('img-cli-hostile-');
const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.cjs');
/** A hostile input must be refused at once; the old code hung on some of these. */
const HANG_MS = 20_000;

/** The CLI in a child process, killed after HANG_MS (an in-process hang would stall the test worker). */
async function imgChild(...args: string[]): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], {
    allowFailure: true,
    timeoutMs: HANG_MS,
    env: { ...process.env, IMG_CACHE_DIR: join(tmp.path, 'cache') },
  });
}

/** Exit 1 (not killed), one line on stderr matching `message`. */
function expectRefused(r: RunResult, message: RegExp): void {
  expect(r.signal, `killed after ${HANG_MS} ms: ${r.stderr}`).toBeNull();
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.trim()).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
}

/** A file outside the layout with an old access time: reading it would move the atime (relatime). */
async function victimFile(path: string): Promise<() => Promise<{ atimeMs: number; text: string }>> {
  await writeFile(path, 'not a layer: must not be read, sent or overwritten\n');
  const mtime = Date.now() / 1000;
  await utimes(path, 1_000_000, mtime);
  return async () => {
    const { atimeMs } = await stat(path);
    const text = await readFile(path, 'utf8');
    await utimes(path, 1_000_000, mtime); // our own read must not count
    return { atimeMs, text };
  };
}

describe('digests that leave blobs/ in a local layout', () => {
  let registry: TestRegistry | undefined;
  beforeAll(async () => {
    if (!tools.skip) registry = await startRegistry({ auth: 'none' });
  });
  afterAll(() => registry?.stop());

  async function escapingLayout(name: string) {
    const dir = join(tmp.path, name);
    await mkdir(dir);
    // blobs/sha256/../../../x is <dir>/x: beside the layout.
    const victim = await victimFile(join(dir, 'x'));
    const before = await victim();
    const layout = await HostileLayout.create(join(dir, 'layout'));
    const layer = {
      mediaType: MediaType.OciLayerGzip,
      digest: escapingDigest('x'),
      size: before.text.length,
    };
    const manifest = await layout.blob(layout.manifestWithLayer(layer), MediaType.OciManifest);
    await layout.setRoot({ ...manifest });
    return { layout, victim, before };
  }

  it('img validate refuses the digest without reading the file', async () => {
    const { layout, victim, before } = await escapingLayout('validate');
    expectRefused(
      await imgChild('validate', `oci:${layout.dir}`),
      /invalid digest.*sha256:\.\.\/\.\.\/\.\.\/x/,
    );
    expect(await victim()).toEqual(before);
  });

  it.skipIf(tools.skip)('img push refuses it before sending anything', async () => {
    const { layout, victim, before } = await escapingLayout('push');
    const logged = (await registry!.requests()).length;
    const r = await imgChild('push', `oci:${layout.dir}`, `${registry!.url}/hostile/escape:1`);
    expectRefused(r, /invalid digest.*sha256:\.\.\/\.\.\/\.\.\/x/);
    expect((await registry!.requests()).slice(logged)).toEqual([]);
    expect(await victim()).toEqual(before);
  });

  it('img inspect and img build (as a base) refuse it too', async () => {
    const { layout, victim, before } = await escapingLayout('inspect');
    expectRefused(await imgChild('inspect', `oci:${layout.dir}`), /invalid digest/);
    const spec = join(layout.dir, '..', 'image.json');
    await writeFile(spec, JSON.stringify({ platform: 'linux/amd64', base: `oci:${layout.dir}`, layers: [] }));
    expectRefused(
      await imgChild('build', spec, '-o', `oci:${join(layout.dir, '..', 'out')}`),
      /invalid digest/,
    );
    expect(await victim()).toEqual(before);
  });
});

/**
 * A registry that serves one manifest whose layer digest walks out of blobs/ (a real registry refuses
 * to store such a manifest, hence this fake), logging every request it gets.
 */
async function startEscapingRegistry(layerDigest: string): Promise<{
  url: string;
  requests: string[];
  stop(): Promise<void>;
}> {
  const config = canonicalJsonBytes(
    {
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [sha256Digest('x')] },
    },
    'config',
  );
  const configDescriptor: Descriptor = {
    mediaType: MediaType.OciConfig,
    digest: sha256Digest(config),
    size: config.length,
  };
  const payload = Buffer.from('pwned\n');
  const manifest = canonicalJsonBytes(
    {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: configDescriptor,
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layerDigest, size: payload.length }],
    },
    'sorted',
  );
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const send = (status: number, body: Uint8Array, type = 'application/octet-stream') => {
      res.writeHead(status, { 'content-type': type, 'content-length': body.length });
      res.end(body);
    };
    if (req.url === '/v2/') return send(200, Buffer.from('{}'), 'application/json');
    if (req.url?.includes('/manifests/')) return send(200, manifest, MediaType.OciManifest);
    if (req.url?.endsWith(`/blobs/${configDescriptor.digest}`)) return send(200, config);
    // Anything else (a blob by a digest that left its path, once a client normalised the URL) gets bytes.
    return send(200, payload);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `127.0.0.1:${port}`,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('digests that leave blobs/ in a registry manifest', () => {
  it('img pull --layers writes nothing outside the output directory', async () => {
    const dir = join(tmp.path, 'pull');
    await mkdir(dir);
    // The output's temp dir and final dir are <dir>/<name>: blobs/sha256/../../../victim is <dir>/victim.
    const victim = await victimFile(join(dir, 'victim'));
    const before = await victim();
    const fake = await startEscapingRegistry(escapingDigest('victim'));
    try {
      const r = await imgChild('pull', `${fake.url}/hostile/escape:1`, '--layers', '-o', join(dir, 'out'));
      expectRefused(r, /invalid digest.*sha256:\.\.\/\.\.\/\.\.\/victim/);
      expect(await victim()).toEqual(before);
      expect(fake.requests.filter((r) => r.includes('victim'))).toEqual([]);
    } finally {
      await fake.stop();
    }
  });
});

describe('exponential graphs', () => {
  let registry: TestRegistry | undefined;
  beforeAll(async () => {
    if (!tools.skip) registry = await startRegistry({ auth: 'none' });
  });
  afterAll(() => registry?.stop());

  it('an index listing the same child twice, 40 levels deep, is refused at once everywhere', async () => {
    const layout = await HostileLayout.create(join(tmp.path, 'deep'));
    const top = await layout.doublingIndex(40);
    await layout.setRoot({ ...top });
    expect(top.size * 40).toBeLessThan(20_000);
    const ref = `oci:${layout.dir}`;
    const tooDeep = /nested deeper than/;
    expectRefused(await imgChild('validate', ref), tooDeep);
    expectRefused(await imgChild('inspect', ref), tooDeep);
    const spec = join(tmp.path, 'deep-spec.json');
    await writeFile(spec, JSON.stringify({ platform: 'linux/amd64', base: ref, layers: [] }));
    expectRefused(await imgChild('build', spec, '-o', `oci:${join(tmp.path, 'deep-out')}`), tooDeep);
    if (registry) {
      const logged = (await registry.requests()).length;
      expectRefused(await imgChild('push', ref, `${registry.url}/hostile/deep:1`), tooDeep);
      expect((await registry.requests()).slice(logged)).toEqual([]);
    }
  });

  it.skipIf(tools.skip)('img pull of 5 levels x 50 entries asks for each document once', async () => {
    const layout = await HostileLayout.create(join(tmp.path, 'wide'));
    const repo = 'hostile/wide';
    const push = await imgChild('push', `oci:${layout.dir}`, `${registry!.url}/${repo}:leaf`);
    expect(push.code, push.stderr).toBe(0);
    // Each level lists the level below 50 times (distinct entries by annotation, one digest).
    let child: Descriptor = layout.tiny.manifest;
    for (let level = 0; level < 5; level++) {
      const manifests = Array.from({ length: 50 }, (_, i) => ({ ...child, annotations: { n: String(i) } }));
      const bytes = canonicalJsonBytes(
        { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests },
        'index',
      );
      const digest = sha256Digest(bytes);
      const res = await fetch(`${registry!.baseUrl}/v2/${repo}/manifests/${digest}`, {
        method: 'PUT',
        headers: { 'content-type': MediaType.OciIndex },
        body: bytes,
      });
      expect(res.status, await res.text()).toBe(201);
      child = { mediaType: MediaType.OciIndex, digest, size: bytes.length };
    }
    const tag = await fetch(`${registry!.baseUrl}/v2/${repo}/manifests/top`, {
      method: 'PUT',
      headers: { 'content-type': MediaType.OciIndex },
      body: await (
        await fetch(`${registry!.baseUrl}/v2/${repo}/manifests/${child.digest}`, {
          headers: { accept: MediaType.OciIndex },
        })
      ).arrayBuffer(),
    });
    expect(tag.status).toBe(201);

    const logged = (await registry!.requests()).length;
    const r = await imgChild('pull', `${registry!.url}/${repo}:top`, '-o', join(tmp.path, 'wide-out'));
    expect(r.signal, 'killed: the walk did not finish').toBeNull();
    expect(r.code, r.stderr).toBe(0);
    const sent = (await registry!.requests()).slice(logged).filter((e) => e.path !== '/v2/');
    // 5 indexes + 1 manifest + 1 config (a token-less registry needs no more).
    expect(sent.length).toBeLessThanOrEqual(7);
  });
});

describe('img validate is at least as strict as push', () => {
  async function lyingLayout(name: string, lie: (l: HostileLayout) => Promise<object>) {
    const layout = await HostileLayout.create(join(tmp.path, name));
    await layout.setRoot(await lie(layout));
    return `oci:${layout.dir}`;
  }

  it('refuses a document with both manifests and layers (CVE-2021-41190)', async () => {
    const ref = await lyingLayout('ambiguous', async (l) => {
      const doc = { ...l.manifestWithLayer(l.tiny.layer), manifests: [] };
      return { ...(await l.blob(doc, MediaType.OciManifest)) };
    });
    expectRefused(await imgChild('validate', ref), /both .*manifests.* and .*layers/);
  });

  it('refuses a descriptor whose media type disagrees with the document', async () => {
    const ref = await lyingLayout('mediatype', async (l) => ({
      ...l.tiny.manifest,
      mediaType: MediaType.DockerManifest,
    }));
    expectRefused(await imgChild('validate', ref), /media ?type/i);
  });

  it('refuses a descriptor whose size lies', async () => {
    const ref = await lyingLayout('size', async (l) => ({
      ...l.tiny.manifest,
      size: l.tiny.manifest.size + 10,
    }));
    expectRefused(await imgChild('validate', ref), /size/);
  });
});
