import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from './digest.js';
import { createVerifyStream } from './verify-stream.js';

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

describe('createVerifyStream', () => {
  it('passes matching content and rejects wrong digest or size before the end', async () => {
    const data = Buffer.from('hello world');
    await pipeline(
      Readable.from([data]),
      createVerifyStream({ digest: sha256Digest(data), size: 11 }),
      sink(),
    );
    await expect(
      pipeline(
        Readable.from([data]),
        createVerifyStream({ digest: sha256Digest('other'), size: 11 }, 'blob x'),
        sink(),
      ),
    ).rejects.toMatchObject({
      code: 'IMG_DIGEST_MISMATCH',
      message: expect.stringMatching(/^blob x: digest mismatch/),
    });
    await expect(
      pipeline(Readable.from([data]), createVerifyStream({ digest: sha256Digest(data), size: 5 }), sink()),
    ).rejects.toMatchObject({ code: 'IMG_SIZE_MISMATCH' });
    await expect(
      pipeline(Readable.from([data]), createVerifyStream({ digest: sha256Digest(data), size: 12 }), sink()),
    ).rejects.toMatchObject({ code: 'IMG_SIZE_MISMATCH' });
  });
});
