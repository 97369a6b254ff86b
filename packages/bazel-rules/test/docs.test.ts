import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { parseTextProto, renderModule } from '../scripts/render-docs.mjs';
import { bazel, outputFiles, outputRoot, RULES_DIR, skipWithoutBazel } from './bazel.js';

// The API reference in docs/*.md is generated from the .bzl docstrings: starlark_doc_extract
// (//docs) under Bazel 7, rendered by scripts/render-docs.mjs. This fails when a page is stale;
// `pnpm --filter @img/bazel-rules docs` (UPDATE_DOCS=1) rewrites them.
const skip = skipWithoutBazel();
const opts = { root: outputRoot('examples') };
const update = process.env.UPDATE_DOCS === '1';

describe.skipIf(skip)('API reference (docs/*.md)', () => {
  afterAll(async () => {
    await bazel('shutdown', [], { ...opts, allowFailure: true });
  });

  it('matches what starlark_doc_extract gives for every public .bzl file', async () => {
    const r = await bazel('build', ['@img_rules//docs:textprotos'], opts);
    expect(r.code, r.stderr).toBe(0);
    const protos = await outputFiles(['@img_rules//docs:textprotos'], [], opts);
    expect(protos.length).toBe(11);
    const stale: string[] = [];
    for (const proto of protos) {
      const name = basename(proto, '.textproto');
      const page = join(RULES_DIR, 'docs', `${name}.md`);
      const rendered: string = renderModule(name, parseTextProto(await readFile(proto, 'utf8')));
      const current = await readFile(page, 'utf8').catch(() => '');
      if (current === rendered) continue;
      if (update) await writeFile(page, rendered);
      else stale.push(`docs/${name}.md`);
    }
    expect(stale, 'stale API reference: run `pnpm --filter @img/bazel-rules docs`').toEqual([]);
  });
});
