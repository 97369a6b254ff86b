import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buildImage } from '@img/image-assembly';
import { writeLayerToFile } from '@img/layer-writer';
import type { ImageGraph } from '@img/oci-spec';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { writeDockerArchive } from './docker-archive.js';
import { StreamSink, TarSink } from './sinks.js';

const tmp = useTempDir('stream-sink-');

async function content(bytes: number): Promise<ImageGraph> {
  const path = tmp.join(`layer-${bytes}.tar`);
  // Uncompressed random-ish content, so the archive is as large as the data.
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  const layer = await writeLayerToFile(
    { entries: [{ type: 'content', path: '/data', content: data }] },
    path,
    {
      compression: 'none',
    },
  );
  const image = buildImage({ platform: { os: 'linux', architecture: 'amd64' }, layers: [layer] });
  return {
    root: image.descriptor,
    documents: new Map([
      [image.manifest.config.digest, image.configBytes],
      [image.descriptor.digest, image.manifestBytes],
    ]),
    blobs: new Map([[layer.digest, { descriptor: layer, open: async () => createReadStream(path) }]]),
  };
}

describe('StreamSink', () => {
  it('streams the same bytes TarSink writes to a file', async () => {
    const c = await content(300_000);
    await writeDockerArchive(c, new TarSink(tmp.join('a.tar')), { repoTags: ['x/y:1'] });
    const sink = new StreamSink();
    const chunks: Buffer[] = [];
    const consumed = pipeline(
      sink.stream,
      new Writable({
        write(chunk, _e, cb) {
          chunks.push(chunk);
          cb();
        },
      }),
    );
    await writeDockerArchive(c, sink, { repoTags: ['x/y:1'] });
    await consumed;
    expect(Buffer.concat(chunks).equals(await readFile(tmp.join('a.tar')))).toBe(true);
  });

  it('waits for a slow consumer and fails the producer when the consumer goes away', async () => {
    const c = await content(8 * 1024 * 1024);
    const sink = new StreamSink();
    let received = 0;
    const consumer = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _e, cb) {
        received += chunk.length;
        // Buffered bytes stay bounded by the two stream buffers, whatever the archive size.
        expect(sink.stream.writableLength + sink.stream.readableLength).toBeLessThanOrEqual(3 * 1024 * 1024);
        if (received > 2 * 1024 * 1024) cb(new Error('consumer gave up'));
        else setTimeout(cb, 1);
      },
    });
    // Settle-handled at once: the consumer may fail before the producer notices.
    const consumed = pipeline(sink.stream, consumer).then(
      () => undefined,
      (e: Error) => e,
    );
    await expect(writeDockerArchive(c, sink)).rejects.toThrow(/closed by its consumer/);
    expect((await consumed)?.message).toMatch(/consumer gave up/);
    expect(received).toBeLessThan(8 * 1024 * 1024);
  });
});
