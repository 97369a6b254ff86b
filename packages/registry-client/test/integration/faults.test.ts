import { writeFile } from 'node:fs/promises';
import { sha256Digest } from '@img/oci-spec';
import { ciRequires, run, startRegistry, type TempDir, type TestRegistry, tempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/limit.js';
import { blobFromFile, blobFromSources, TestClient as RegistryClient } from '../helpers/client.js';
import {
  type Fault,
  type FaultProxy,
  type ProxiedRequest,
  seededRandom,
  startFaultProxy,
} from '../helpers/fault-proxy.js';
import { buildImage, randomLayer, type TestLayer } from '../helpers/images.js';

const needs = ciRequires('docker-registry', 'crane');
const PUSHES = 100;

/** The fault mix: about one request in four is disturbed; PATCH bodies are cut often. */
function plan(seed: number): (req: ProxiedRequest) => Fault {
  const random = seededRandom(seed);
  return (req) => {
    const r = random();
    if (req.method === 'PATCH' && req.contentLength > 0 && r < 0.15) {
      return { kind: 'reset-request', afterBytes: Math.floor(random() * req.contentLength) };
    }
    if (r < 0.2) return { kind: 'status', status: 503, retryAfter: '0' };
    if (r < 0.24) return { kind: 'status', status: 429, retryAfter: '0' };
    if (r < 0.26) return { kind: 'status', status: 502 };
    if (r < 0.29) return { kind: 'reset-request', afterBytes: 0 };
    if (r < 0.32) return { kind: 'reset-response', afterBytes: Math.floor(random() * 40) };
    if (r < 0.38) return { kind: 'slow', delayMs: 10 + Math.floor(random() * 60) };
    return { kind: 'pass' };
  };
}

describe.skipIf(needs.skip)('pushes through a faulty network', () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  let base: TestLayer[];
  let files: TempDir;
  beforeAll(async () => {
    files = await tempDir('faults-files-');
    registry = await startRegistry();
    base = [randomLayer(120_000), randomLayer(40_000)];
    const seed = new RegistryClient();
    await seed.pushImage(`${registry.url}/faults/base:1`, buildImage(base).input);
    await seed.close();
    proxy = await startFaultProxy({ host: '127.0.0.1', port: registry.port }, plan(20261127));
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    await files?.remove();
  });

  it(`completes ${PUSHES} pushes of a multi-layer image, all valid`, async () => {
    const client = new RegistryClient({ retry: { retries: 8, minDelayMs: 2, maxDelayMs: 40 } });
    const pushed: { ref: string; digest: string; bytes: Buffer }[] = [];
    try {
      for (let i = 0; i < PUSHES; i++) {
        const own = [randomLayer(5_000 + ((i * 7919) % 200_000)), randomLayer(2_000), randomLayer(60_000)];
        const image = buildImage([...base, ...own]);
        // The largest own layer is read from a file (the client's recycled-buffer path).
        const file = files.join(`own-${i}.tgz`);
        await writeFile(file, own[0]!.bytes);
        // The base layers come by reference only: mounted from faults/base.
        const blobs = image.input.blobs.map((b) =>
          base.some((l) => l.descriptor.digest === b.descriptor.digest)
            ? blobFromSources(b.descriptor, [{ registry: proxy.url, repository: 'faults/base' }])
            : b.descriptor.digest === own[0]!.descriptor.digest
              ? blobFromFile(b.descriptor, file)
              : b,
        );
        const ref = `${proxy.url}/faults/app-${i % 5}:t${i}`;
        const result = await client.pushImage(ref, { ...image.input, blobs });
        expect(result.descriptor.digest).toBe(image.input.root.descriptor.digest);
        pushed.push({
          ref: `${registry.url}/faults/app-${i % 5}:t${i}`,
          digest: result.descriptor.digest,
          bytes: image.input.root.bytes as Buffer,
        });
      }
    } finally {
      await client.close();
    }
    expect(proxy.injected['reset-request']).toBeGreaterThan(20);
    expect(proxy.injected.status).toBeGreaterThan(50);
    expect(proxy.injected['reset-response']).toBeGreaterThan(10);

    // Verified directly against the registry, not through the proxy.
    const direct = new RegistryClient();
    try {
      await mapLimit(pushed, 4, async (p) => {
        await run('crane', ['validate', '--insecure', '--remote', p.ref]);
        const doc = await direct.fetchManifest(p.ref);
        expect(sha256Digest(doc.bytes)).toBe(p.digest);
        expect(Buffer.from(doc.bytes).equals(p.bytes)).toBe(true);
      });
    } finally {
      await direct.close();
    }
  });

  it('waits as long as Retry-After asks, on 503 and on 429', async () => {
    const image = buildImage([randomLayer(1000)]);
    let n = 0;
    proxy.setPlan((req) => {
      if (req.method !== 'HEAD') return { kind: 'pass' };
      n++;
      if (n === 1) return { kind: 'status', status: 503, retryAfter: '1' };
      if (n === 2) return { kind: 'status', status: 429, retryAfter: '1' };
      return { kind: 'pass' };
    });
    const client = new RegistryClient({ jobs: 1, retry: { minDelayMs: 1, maxDelayMs: 5 } });
    try {
      const started = Date.now();
      const result = await client.pushImage(`${proxy.url}/faults/retry-after:1`, image.input);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
      expect(result.summary.retries).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('gives up after the configured retries with a retryable RegistryError naming the registry', async () => {
    proxy.setPlan(() => ({ kind: 'status', status: 503, retryAfter: '0' }));
    const client = new RegistryClient({ retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 } });
    try {
      const err = await client.pullImage(`${proxy.url}/faults/base:1`).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'IMG_REGISTRY_HTTP_ERROR',
        status: 503,
        retryable: true,
        registry: proxy.url,
        distributionCode: 'TOOMANYREQUESTS',
      });
      expect((err as Error).message).toContain(proxy.url);
    } finally {
      await client.close();
    }
  });
});
