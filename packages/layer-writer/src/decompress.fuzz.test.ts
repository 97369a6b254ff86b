// Property/fuzz tests of the decompressors behind openTarStream: mutated gzip and zstd streams end
// with the right bytes or a LayerError naming the file, never another exception, a hang or unbounded
// output.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zstdZeroBomb } from '@img/test-utils';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzParameters, fuzzTimeout } from '../../../test/fuzz.js';
import { LayerError } from './errors.js';
import { openTarStream } from './tar-input.js';
import { tempDir, toolAvailable } from './test-helpers.js';

const MiB = 1024 * 1024;
const LIMITS = { maxDecompressedSize: 8 * MiB, maxZstdWindowSize: 8 * MiB };
const work = tempDir('decompress-fuzz-');
afterAll(() => work.cleanup());
let cases = 0;

async function readAll(format: 'gzip' | 'zstd', bytes: Uint8Array): Promise<Buffer | LayerError> {
  const path = join(work.dir, `case-${++cases % 8}`);
  writeFileSync(path, bytes);
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of openTarStream(path, format, LIMITS)) {
      parts.push(part as Buffer);
      size += (part as Buffer).length;
      expect(size).toBeLessThanOrEqual(LIMITS.maxDecompressedSize + MiB);
    }
  } catch (err) {
    if (!(err instanceof LayerError)) throw err;
    expect(err.message.startsWith(path)).toBe(true);
    return err;
  }
  return Buffer.concat(parts);
}

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 20_000 }),
  fc.string({ maxLength: 5000 }).map((s) => Buffer.from(s.repeat(3))),
);

const edit = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
);

function applyEdits(
  bytes: Buffer,
  edits: ReadonlyArray<typeof edit extends fc.Arbitrary<infer T> ? T : never>,
): Buffer {
  let out = Buffer.from(bytes);
  for (const e of edits) {
    if (out.length === 0) break;
    if (e.kind === 'flip') out[e.at % out.length]! ^= 1 << e.bit;
    else if (e.kind === 'cut') out = out.subarray(0, e.at % out.length);
    else {
      const at = e.at % (out.length + 1);
      out = Buffer.concat([out.subarray(0, at), e.bytes, out.subarray(at)]);
    }
  }
  return out;
}

describe('openTarStream decompression (property)', () => {
  it(
    'gzip: intact streams give the bytes back, mutated ones the bytes or a LayerError',
    async () => {
      await fc.assert(
        fc.asyncProperty(payload, fc.array(edit, { maxLength: 4 }), async (data, edits) => {
          const gz = gzipSync(data);
          const got = await readAll('gzip', applyEdits(gz, edits));
          if (edits.length === 0) expect(Buffer.from(data).equals(got as Buffer)).toBe(true);
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeout(),
  );

  it.runIf(toolAvailable('zstd'))(
    'zstd (zstd CLI frames and hand-made RLE bombs): intact streams give the bytes back, mutated ones the bytes or a LayerError',
    async () => {
      const seeds: Array<{ data: Buffer; zst: Buffer }> = [0, 1, 2].map((i) => {
        const data = Buffer.from(`seed ${i} `.repeat(4000 * (i + 1)));
        return { data, zst: execFileSync('zstd', ['-q', `-${i * 9 + 1}`, '-c'], { input: data }) };
      });
      seeds.push({ data: Buffer.alloc(3 * MiB), zst: zstdZeroBomb(new Uint8Array(0), 3 * MiB) });
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: seeds.length - 1 }),
          fc.array(edit, { maxLength: 4 }),
          async (i, edits) => {
            const got = await readAll('zstd', applyEdits(seeds[i]!.zst, edits));
            if (edits.length === 0) expect(seeds[i]!.data.equals(got as Buffer)).toBe(true);
          },
        ),
        fuzzParameters(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'zstd: random bytes after the magic number: a LayerError, never a hang or a huge allocation',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (tail) => {
          await readAll('zstd', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), tail]));
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeout(),
  );
});
