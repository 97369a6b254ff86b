import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { type TempDir, tempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bazel, outputRoot, RULES_DIR, skipWithoutBazel } from './bazel.js';

// img_node.toolchain(node = <label>) replaces the host's node with a node binary that is an action
// input (a hermetic Node for remote execution).
const skip = skipWithoutBazel();
const root = outputRoot('hermetic-node');
let ws: TempDir;

describe.skipIf(skip)('a hermetic node for img actions', () => {
  beforeAll(async () => {
    // Under /tmp, which the chroot shares; `tools/node` stands for a downloaded Node distribution.
    ws = await tempDir('bazel-hermetic-node-');
    await writeFile(
      ws.join('MODULE.bazel'),
      [
        'module(name = "hermetic_node_case")',
        'bazel_dep(name = "img_rules", version = "0.1.0")',
        `local_path_override(module_name = "img_rules", path = "${RULES_DIR}")`,
        'img_node = use_extension("@img_rules//img:extensions.bzl", "img_node")',
        'img_node.toolchain(node = "//tools:node")',
        '',
      ].join('\n'),
    );
    await writeFile(ws.join('WORKSPACE.bzlmod'), '');
    await mkdir(ws.join('tools'));
    await symlink('/usr/bin/node', ws.join('tools', 'node'));
    await writeFile(ws.join('tools', 'BUILD.bazel'), 'exports_files(["node"])\n');
    await writeFile(ws.join('data.txt'), 'data\n');
    await writeFile(
      ws.join('BUILD.bazel'),
      'load("@img_rules//img:layer.bzl", "image_layer")\n\nimage_layer(name = "layer", srcs = {"/data.txt": "data.txt"})\n',
    );
  });

  afterAll(async () => {
    await bazel('shutdown', [], { root, cwd: ws.path, allowFailure: true });
    await ws.remove();
  });

  it('runs the layer action with the node from the label, as a worker', async () => {
    const build = await bazel('build', ['//:layer'], { root, cwd: ws.path });
    expect(build.stderr).toMatch(/1 worker/);
    const q = await bazel('aquery', ['mnemonic("ImgLayer", //:layer)'], { root, cwd: ws.path });
    expect(q.stdout).toMatch(
      /Command Line: \(exec tools\/node \\\s*\n\s*external\/img_rules[~+]*\/img\/private\/img\.cjs/,
    );
    expect(q.stdout).toMatch(/Inputs: \[[^\]]*tools\/node/);
  });
});
