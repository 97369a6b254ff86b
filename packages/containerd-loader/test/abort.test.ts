import { Readable } from 'node:stream';
import type { ProgressEvent } from '@img/oci-spec';
import { ciRequires, startContainerd, type TestContainerd, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIntoContainerd } from '../src/index.js';
import { busyboxEntries, TestContent } from './fixtures.js';
import { activeIngests } from './helpers.js';

// Abort mid-load: the promise rejects with the signal's reason, no lease is left (the partial ingest
// is the collector's), and no image name was created.
const needs = ciRequires('containerd', 'ctr', 'busybox', { root: true });
const tmp = useTempDir('ctrd-abort-');

describe.skipIf(needs.skip)('loadIntoContainerd with a signal', () => {
  let ctrd: TestContainerd;
  beforeAll(async () => {
    ctrd = await startContainerd();
  });
  afterAll(() => ctrd?.stop());

  it('aborted while a layer is being written: rejects, leaves no lease, no writer and no image', async () => {
    const ns = ctrd.newNamespace('abort');
    const tc = new TestContent(tmp.join('abort'));
    const image = await tc.image({ layers: [busyboxEntries] });
    const layer = image.layers[0]!;
    const file = tc.blobs.get(layer.digest)!;
    // The layer sends its first 256 KiB and then stalls: only the abort ends the load.
    tc.blobs.set(layer.digest, {
      descriptor: file.descriptor,
      open: async () => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        for await (const c of await file.open()) {
          chunks.push(c as Buffer);
          bytes += (c as Buffer).length;
          if (bytes >= 256 * 1024) break;
        }
        let sent = false;
        return new Readable({
          read() {
            if (!sent) this.push(Buffer.concat(chunks));
            sent = true;
          },
        });
      },
    });
    const controller = new AbortController();
    const events: ProgressEvent[] = [];
    const load = loadIntoContainerd(tc.content(image.descriptor), {
      address: ctrd.address,
      namespace: ns,
      names: ['imgtest/abort:dev'],
      chunkBytes: 64 * 1024,
      signal: controller.signal,
      onProgress: (e) => {
        events.push(e);
        if (e.type === 'blob' && e.phase === 'progress' && e.bytes >= 192 * 1024) controller.abort();
      },
    });
    await expect(load).rejects.toMatchObject({ name: 'AbortError' });
    expect(events[0]).toMatchObject({ type: 'plan', operation: 'load', blobs: 3, present: 0 });
    expect((await ctrd.ctr(['leases', 'ls', '-q'], { namespace: ns })).stdout.trim()).toBe('');
    expect(await activeIngests(ctrd, ns)).toEqual([]);
    expect((await ctrd.ctr(['images', 'ls', '-q'], { namespace: ns })).stdout.trim()).toBe('');
  });

  it('an already aborted signal does not connect', async () => {
    const tc = new TestContent(tmp.join('pre'));
    const image = await tc.image({ layers: [busyboxEntries] });
    const reason = new Error('not now');
    await expect(
      loadIntoContainerd(tc.content(image.descriptor), {
        address: `${tmp.path}/no-such.sock`,
        names: ['imgtest/abort:pre'],
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
  });
});
