import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { DirectorySink, readLayout, writeOciLayout } from '@img/oci-layout';
import { ciRequires, startContainerd, type TestContainerd, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContainerdClient,
  deleteStaleLeases,
  ingestRef,
  LEASE_EXPIRE_LABEL,
  LEASE_PID_LABEL,
  loadIntoContainerd,
} from '../src/index.js';
import { bundleWithProtos } from './bundle.js';
import { TestContent } from './fixtures.js';
import { activeIngests, contentDigests, imageCheck } from './helpers.js';

const needs = ciRequires('containerd', 'ctr', { root: true });
const tmp = useTempDir('ctrd-kill-');
const BIG = 128 * 1024 * 1024;

async function writeRandomFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = size; left > 0; left -= 4 << 20) {
    if (!out.write(randomBytes(Math.min(left, 4 << 20))))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

describe.skipIf(needs.skip)('a load killed in the middle of a write', () => {
  let ctrd: TestContainerd;
  beforeAll(async () => {
    ctrd = await startContainerd();
  });
  afterAll(() => ctrd?.stop());

  it('leaves no image and no blob, and the next load resumes the ingest and completes', async () => {
    const ns = ctrd.newNamespace('kill');
    await mkdir(tmp.join('src'), { recursive: true });
    await writeRandomFile(tmp.join('src', 'big.bin'), BIG);
    const tc = new TestContent(tmp.join('blobs'));
    const img = await tc.image({
      compression: 'none',
      layers: [
        [{ type: 'file', path: '/big.bin', source: tmp.join('src', 'big.bin') }],
        [{ type: 'content', path: '/app', content: 'app' }],
      ],
    });
    const big = img.layers[0]!;
    await writeOciLayout(tc.content(img.descriptor), new DirectorySink(tmp.join('layout')), {
      refName: 'latest',
    });
    const bundle = await bundleWithProtos(
      new URL('./child/load-child.ts', import.meta.url).pathname,
      tmp.join('bundle'),
    );

    // The child finds its protos next to the bundle (no option, no environment variable).
    const env = { ...process.env };
    delete env.IMG_CONTAINERD_PROTO_DIR;
    const child = spawn(
      process.execPath,
      [bundle, `oci:${tmp.join('layout')}`, ctrd.address, ns, 'killed:1'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    let killedAt = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      const [, digest, offset] = line.split(' ');
      if (digest === big.digest && Number(offset) >= 16 * 1024 * 1024) {
        killedAt = Number(offset);
        child.kill('SIGKILL');
        break;
      }
    }
    expect(await exited, stderr).toBe('SIGKILL');
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(big.size);

    // Nothing half-written is visible: no image, the big layer is not content, only an ingest under a lease.
    expect((await ctrd.ctr(['images', 'ls', '-q'], { namespace: ns })).stdout.trim()).toBe('');
    expect((await contentDigests(ctrd, ns)).has(big.digest)).toBe(false);
    const leases = (await ctrd.ctr(['leases', 'ls'], { namespace: ns })).stdout;
    expect(leases).toContain(LEASE_EXPIRE_LABEL);
    expect((await activeIngests(ctrd, ns)).join('\n')).toContain(ingestRef(big.digest));
    expect(leases).toContain(`${LEASE_PID_LABEL}=${child.pid}`);
    // The owner is dead, but its partial blob is still an ingest: the lease stays so a load can resume it.
    const client = new ContainerdClient({ address: ctrd.address, namespace: ns });
    try {
      expect(await deleteStaleLeases(client)).toEqual([]);
    } finally {
      client.close();
    }

    const again = await loadIntoContainerd(await readLayout(`oci:${tmp.join('layout')}`), {
      address: ctrd.address,
      namespace: ns,
      names: ['killed:1'],
    });
    const bigOutcome = again.blobs.find((b) => b.descriptor.digest === big.digest)!;
    expect(bigOutcome.status).toBe('written');
    // Resumed: fewer bytes sent than the layer holds, and at most what the killed client had not sent.
    expect(bigOutcome.bytesSent).toBeLessThan(big.size);
    expect(bigOutcome.bytesSent).toBeGreaterThanOrEqual(big.size - killedAt);
    expect(await activeIngests(ctrd, ns)).toEqual([]);
    expect(await imageCheck(ctrd, ns, 'docker.io/library/killed:1')).toMatch(/complete \(3\/3\)/);
    // The resumed load committed the killed client's ingest, then deleted its lease: none is left.
    expect((await ctrd.ctr(['leases', 'ls', '-q'], { namespace: ns })).stdout.trim()).toBe('');
  });
});
