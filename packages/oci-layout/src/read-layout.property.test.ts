import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImgError } from '@img/oci-spec';
import { useTempDir, writeTinyOciLayout } from '@img/test-utils';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fuzzParameters } from '../../../test/fuzz.js';
import { readLayout } from './read-layout.js';
import { TarSink } from './sinks.js';
import { validateLayout } from './validate-layout.js';
import { writeOciLayout } from './write-layout.js';

/**
 * Property tests: layouts with mutated files (index.json, documents, a layout tar's headers) are read
 * or refused, always promptly and only with our typed errors. CI runs a fixed seed; a longer run:
 * `FUZZ_RUNS=2000 FUZZ_SEED=$RANDOM npx vitest run --project oci-layout property`.
 */
const runs = fuzzParameters(60);
const tmp = useTempDir('oci-layout-property-');
let pristine: string;
let pristineTar: Buffer;
let files: string[];

beforeAll(async () => {
  pristine = tmp.join('pristine');
  await writeTinyOciLayout(pristine);
  files = (await readdir(pristine, { recursive: true }))
    .map(String)
    .filter((f) => f.includes('.') || f.includes('/'));
  files = files.filter((f) => f === 'index.json' || f === 'oci-layout' || f.startsWith('blobs/sha256/'));
  const tar = tmp.join('pristine.tar');
  await writeOciLayout(await readLayout(`oci:${pristine}`), new TarSink(tar));
  pristineTar = await readFile(tar);
});

async function expectReadOrTyped(ref: string): Promise<void> {
  try {
    await validateLayout(ref);
  } catch (err) {
    if (!(err instanceof ImgError)) throw err;
    expect(err.message.split('\n')).toHaveLength(1);
  }
}

let n = 0;
const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });

describe('properties of layout reading', () => {
  it('a directory layout with a mutated file is read or refused with a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), edits, fc.boolean(), async (which, changes, truncate) => {
        const dir = tmp.join(`dir-${n++}`);
        await cp(pristine, dir, { recursive: true });
        const file = join(dir, files[which % files.length]!);
        const bytes = Buffer.from(await readFile(file));
        for (const [at, value] of changes) if (bytes.length) bytes[at % bytes.length] = value;
        await writeFile(file, truncate ? bytes.subarray(0, bytes.length >> 1) : bytes);
        await expectReadOrTyped(`oci:${dir}`);
        await rm(dir, { recursive: true, force: true });
      }),
      runs,
    );
  });

  it('a layout tar with mutated headers or data is read or refused with a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(edits, fc.nat(pristineTar.length), async (changes, cut) => {
        const bytes = Buffer.from(pristineTar);
        for (const [at, value] of changes) bytes[at % bytes.length] = value;
        const path = tmp.join(`tar-${n++}.tar`);
        await writeFile(path, cut % 3 === 0 ? bytes.subarray(0, cut) : bytes);
        await expectReadOrTyped(`oci-archive:${path}`);
        await rm(path, { force: true });
      }),
      runs,
    );
  });
});
