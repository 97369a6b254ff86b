import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bazel, outputRoot, RULES_DIR, skipWithoutBazel } from './bazel.js';

// Bad input fails at analysis (or in the action) with a message naming the attribute or setting.
const skip = skipWithoutBazel();
const opts = {
  root: outputRoot('errors'),
  cwd: join(RULES_DIR, 'test', 'fixtures', 'errors'),
  allowFailure: true,
};

async function buildFails(target: string, ...flags: string[]): Promise<string> {
  const r = await bazel('build', [...flags, target], opts);
  expect(r.code, r.stderr).not.toBe(0);
  return r.stderr;
}

describe.skipIf(skip)('bad input to img_rules', () => {
  afterAll(async () => {
    await bazel('shutdown', [], opts);
  });

  it('builds the good target (the fixture itself is sound)', async () => {
    const r = await bazel('build', ['//:good', '//:manifest'], opts);
    expect(r.code, r.stderr).toBe(0);
  });

  it('rejects a srcs key escaping the image root at analysis', async () => {
    const err = await buildFails('//:escaping_key');
    expect(err).toMatch(/in image_layer rule \/\/:escaping_key/);
    expect(err).toMatch(/srcs: key "\/app\/\.\.\/\.\.\/etc\/passwd" escapes the image root/);
    expect(err).not.toMatch(/ImgLayer/); // no action ran
  });

  it('rejects two srcs keys writing the same path', async () => {
    expect(await buildFails('//:duplicate_keys')).toMatch(
      /srcs: keys "\/a\/f" and "a\/\.\/f" both write "\/a\/f"/,
    );
  });

  it('rejects a file_metadata key escaping the root and an unknown metadata field', async () => {
    expect(await buildFails('//:escaping_file_metadata')).toMatch(
      /file_metadata: key "\.\.\/x" escapes the image root/,
    );
    expect(await buildFails('//:bad_metadata_field')).toMatch(/default_metadata: unknown field "owner"/);
  });

  it('fails the action, naming the path, for file_metadata matching no entry', async () => {
    const err = await buildFails('//:unused_file_metadata');
    expect(err).toMatch(/Writing layer \/\/:unused_file_metadata failed/);
    expect(err).toMatch(/no entry of the layer has the path "data\/other\.txt"/);
  });

  it('rejects an unknown value of a global setting, naming the setting', async () => {
    const err = await buildFails('//:good', '--@img_rules//img/settings:compress=brotli');
    expect(err).toMatch(
      /invalid value "brotli" for setting @@?img_rules[~+]*\/\/img\/settings:compress: expected one of gzip, zstd, none/,
    );
    const level = await buildFails('//:good', '--@img_rules//img/settings:compression_level=99');
    expect(level).toMatch(/invalid value "99" for setting .*compression_level.* or an integer from 0 to 22/);
  });

  it('rejects an unknown attribute value, naming the attribute', async () => {
    const err = await buildFails('//bad_attribute:layer');
    expect(err).toMatch(/invalid value in 'compress' attribute: .* instead of 'brotli'/);
    expect(err).toMatch(/gzip, zstd|one of/);
  });

  it('says what is not supported: uncompressed eStargz (built or from a tar), a non-tar file as a layer', async () => {
    expect(await buildFails('//:estargz_uncompressed')).toMatch(
      /estargz: an eStargz layer is compressed; set compress to gzip or zstd/,
    );
    expect(await buildFails('//:estargz_from_tar')).toMatch(
      /estargz: an eStargz layer is compressed; set compress to gzip or zstd/,
    );
    expect(await buildFails('//:manifest_with_blob_as_layer')).toMatch(
      /in layers attribute of image_manifest rule \/\/:manifest_with_blob_as_layer: source file '\/\/:file\.txt' is misplaced here \(expected \.tar/,
    );
  });

  it('rejects several manifests together with platforms in image_index', async () => {
    expect(await buildFails('//:two_manifests_with_platforms')).toMatch(
      /manifests: with platforms, give exactly one manifest/,
    );
  });
});
