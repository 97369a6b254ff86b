import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bazel,
  endMaskedNamespace,
  img,
  outputFiles,
  outputRoot,
  processSummary,
  skipWithoutBazel,
} from './bazel.js';

// The same examples in WORKSPACE mode (img_register_toolchains() from @img_rules//img:repositories.bzl),
// with the chroot's own node hidden from Bazel: the downloaded Node.js toolchain runs every action.
const skip = skipWithoutBazel();
const opts = { root: outputRoot('examples-workspace'), mode: 'workspace' as const, maskHostNode: true };

describe.skipIf(skip)('examples/bazel in WORKSPACE mode', () => {
  let log = '';

  beforeAll(async () => {
    // A server started without the mask would be reused by the masked client.
    await bazel('shutdown', [], { ...opts, maskHostNode: false, allowFailure: true });
    const r = await bazel(
      'build',
      ['--incompatible_strict_action_env', '--output_groups=+oci_layout', '//...'],
      opts,
    );
    log = r.stderr;
  });

  afterAll(async () => {
    await bazel('shutdown', [], { ...opts, allowFailure: true });
    endMaskedNamespace();
  });

  it('builds every example and runs img actions as workers', () => {
    const summary = processSummary(log);
    expect(Object.keys(summary).every((k) => ['internal', 'worker', 'disk cache hit'].includes(k))).toBe(
      true,
    );
    expect(log).not.toContain('compresses gzip differently'); // an official Node.js, not the distro's
  });

  it('runs the downloaded Node.js (execroot-relative), never the host node', async () => {
    const r = await bazel('aquery', ['mnemonic("ImgLayer", //shell_app:app_layer)'], opts);
    expect(r.stdout).toMatch(
      /Command Line: \(exec external\/img_rules_node_linux_amd64\/node\/bin\/node \\\s*\n\s*external\/img_rules\/img\/private\/img\.cjs/,
    );
  });

  it('produces valid OCI layouts', async () => {
    for (const target of [
      '//multi_layer:image',
      '//multi_platform:index',
      '//rules_img_compat:explicit_index',
    ]) {
      const [dir] = await outputFiles([target], ['--output_groups=oci_layout'], opts);
      const r = await img(['validate', `oci:${dir}`]);
      expect(r.stdout, target).toMatch(/^PASS /);
    }
  });

  it('names the runfiles directory after the WORKSPACE name', async () => {
    const [blob] = await outputFiles(['//shell_app:app_layer'], [], opts);
    const names = execFileSync('tar', ['-tzf', blob!], { encoding: 'utf8' }).split('\n');
    expect(names).toContain('app/hello.runfiles/img_examples/shell_app/greeting.txt');
    expect(names.some((n) => n.includes('/_main/'))).toBe(false);
  });
});
