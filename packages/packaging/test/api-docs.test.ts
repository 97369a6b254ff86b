import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '@img/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { publishedPackages, REPO_ROOT } from './tarballs.js';

const typedocBin = join(
  dirname(createRequire(join(REPO_ROOT, 'package.json')).resolve('typedoc/package.json')),
  'bin',
  'typedoc',
);
let out = '';

// `pnpm docs` writes the API reference (TypeDoc, Markdown) to docs/api/; CI builds it here from the
// TSDoc of each library's src/index.ts, so a broken doc build fails the tests.
describe('API reference (pnpm docs)', () => {
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('is generated from the TSDoc of every published library', async () => {
    out = await mkdtemp(join(tmpdir(), 'img-api-docs-'));
    const r = await run(process.execPath, [typedocBin, '--out', out, '--logLevel', 'Error'], {
      cwd: REPO_ROOT,
      timeoutMs: 600_000,
    });
    expect(r.code).toBe(0);
    const libraries = (await publishedPackages()).filter((p) => p.name !== '@img/cli');
    expect(libraries.length).toBeGreaterThanOrEqual(8);
    const index = await readFile(join(out, 'README.md'), 'utf8');
    for (const lib of libraries) {
      expect(index, lib.name).toContain(lib.name);
      await readFile(join(out, lib.name, 'README.md'), 'utf8');
    }
    // a symbol's page carries its TSDoc
    const parseDigest = await readFile(join(out, '@img/oci-spec/functions/parseDigest.md'), 'utf8');
    expect(parseDigest).toContain('Parse and check a digest string');
    const directory = await readFile(join(out, '@img/layer-writer/interfaces/DirectoryEntry.md'), 'utf8');
    expect(directory).toContain('gitignore-style patterns');
  }, 600_000);
});
