import { cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bazel,
  EXAMPLES,
  hostPath,
  outputFiles,
  outputRoot,
  RULES_DIR,
  readText,
  skipWithoutBazel,
} from './bazel.js';

// rules_img's README .bazelrc lines (every setting it lists, @img_rules for @rules_img) over a copy of
// examples/bazel plus push and load targets: every target builds, and switching to the lazy strategies
// changes the push and load targets only (same image digests; no layer blob in their runfiles).
const skip = skipWithoutBazel();
const tmp = useTempDir('bazel-rules-img-rc-');
const ROOT = outputRoot('lazy-rc');
const FIXTURE = join(RULES_DIR, 'test', 'fixtures', 'rules_img_bazelrc', 'rules_img.bazelrc');
const IMAGES = [
  '//shell_app:image',
  '//multi_layer:image',
  '//rules_img_compat:my_app',
  '//multi_platform:index',
];
const LAZY = [
  '--@img_rules//img/settings:push_strategy=lazy',
  '--@img_rules//img/settings:load_strategy=lazy',
];

/** Push and load targets added to example packages (no registry: destination_registry gives it). */
const DEPLOY_TARGETS: Record<string, string> = {
  multi_layer: `
_rc_image_push(
    name = "rc_push",
    image = ":image",
    repository = "examples/multi_layer",
    tag = "latest",
)
`,
  multi_platform: `
_rc_image_push(
    name = "rc_push",
    image = ":index",
    repository = "examples/multi_platform",
    tag = "latest",
)
`,
  shell_app: `
_rc_image_load(
    name = "rc_load",
    image = ":image",
    tag = "examples/shell_app:dev",
)
`,
};
const DEPLOY_LOADS = `load("@img_rules//img:load.bzl", _rc_image_load = "image_load")
load("@img_rules//img:push.bzl", _rc_image_push = "image_push")
`;

describe.skipIf(skip)("rules_img's README .bazelrc settings over examples/bazel", () => {
  let ws: string;
  const opts = () => ({ root: ROOT, cwd: ws });

  /**
   * The blob files among a push or load target's runfiles (its runfiles manifest), in the
   * configuration `flags` give: JSON documents, and the rest (layers: files Bazel must download).
   */
  async function runfileBlobs(target: string, flags: readonly string[]) {
    const [launcher] = await outputFiles([target], flags, opts());
    const manifest = await readFile(`${launcher}.runfiles_manifest`, 'utf8');
    const documents: string[] = [];
    const layers: string[] = [];
    const classify = async (name: string, path: string) => {
      if (/\.(tgz|tar\.zst|tar\.gz|tar)$/.test(name)) layers.push(name);
      else if (/\/blobs\/sha256\/[0-9a-f]{64}$/.test(name)) {
        const text = await readFile(path, 'utf8');
        (text.startsWith('{') ? documents : layers).push(name);
      }
    };
    for (const line of manifest.split('\n').filter(Boolean)) {
      const [name, inChroot] = line.split(' ') as [string, string];
      const path = hostPath(inChroot);
      if (!(await stat(path)).isDirectory()) await classify(name, path);
      else {
        // A tree artifact (an OCI layout directory) is one entry: look inside.
        for (const file of await readdir(path, { recursive: true }))
          await classify(`${name}/${file}`, join(path, file));
      }
    }
    return { documents, layers };
  }

  async function digests(flags: readonly string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const target of IMAGES) {
      const [file] = await outputFiles([target], [...flags, '--output_groups=digest'], opts());
      out[target] = await readText(file!);
    }
    return out;
  }

  beforeAll(async () => {
    ws = tmp.join('examples');
    await cp(EXAMPLES, ws, { recursive: true });
    const module = await readFile(join(ws, 'MODULE.bazel'), 'utf8');
    await writeFile(
      join(ws, 'MODULE.bazel'),
      module.replace('"../../packages/bazel-rules"', JSON.stringify(RULES_DIR)),
    );
    await cp(FIXTURE, join(ws, 'user.bazelrc'));
    for (const [pkg, targets] of Object.entries(DEPLOY_TARGETS)) {
      const build = join(ws, pkg, 'BUILD.bazel');
      await writeFile(build, DEPLOY_LOADS + (await readFile(build, 'utf8')) + targets);
    }
  });

  afterAll(async () => {
    if (ws) await bazel('shutdown', [], { ...opts(), allowFailure: true });
  });

  it('lists every setting of the README block, and each exists in //img/settings', async () => {
    const lines = (await readFile(FIXTURE, 'utf8')).split('\n').filter((l) => l.startsWith('common '));
    const names = lines.map((l) => /settings:(\w+)=/.exec(l)?.[1]);
    expect(names).toEqual([
      'compress',
      'compression_jobs',
      'compression_level',
      'estargz',
      'create_parent_directories',
      'layer_tree_artifact_handling',
      'runfiles_sharing_mode',
      'runfiles_shared_path',
      'stamp',
      'push_strategy',
      'destination_registry',
      'load_strategy',
      'load_daemon',
      'remote_cache',
      'remote_instance_name',
      'credential_helper',
      'docker_config_path',
      'credential_helper_remote_cache',
    ]);
  });

  it('builds every target with them; lazy changes only push and load targets', async () => {
    // Both configurations write the same output paths (starlark flags on the command line do not change
    // them): each is checked right after its own build.
    const targets = ['//multi_layer:rc_push', '//multi_platform:rc_push', '//shell_app:rc_load'];
    const eager = await bazel('build', ['//...'], opts());
    expect(eager.code, eager.stderr).toBe(0);
    const eagerDigests = await digests([]);
    for (const target of targets) {
      expect((await runfileBlobs(target, [])).layers.length, target).toBeGreaterThan(0);
    }
    const lazy = await bazel('build', [...LAZY, '//...'], opts());
    expect(lazy.code, lazy.stderr).toBe(0);
    expect(await digests(LAZY)).toEqual(eagerDigests);
    for (const target of targets) {
      const blobs = await runfileBlobs(target, LAZY);
      expect(blobs.layers, target).toEqual([]);
      expect(blobs.documents.length, target).toBeGreaterThan(0);
    }
    const request = JSON.parse(
      await readFile(
        (
          await outputFiles(['//multi_layer:rc_push'], [...LAZY, '--output_groups=deploy_request'], opts())
        )[0]!,
        'utf8',
      ),
    );
    expect(request).toMatchObject({
      registry: 'gcr.io',
      strategy: 'lazy',
      credential_helper: 'tweag-credential-helper',
      docker_config: '/home/user/.docker/config.json',
      remote_cache: {
        endpoint: 'grpcs://remote.buildbuddy.io',
        instance_name: 'my-instance-name',
        credential_helper: 'tweag-credential-helper',
      },
    });
  });

  it("fails only push and load targets for a strategy img_rules lacks, and never an image's analysis", async () => {
    const lacking = '--@img_rules//img/settings:load_strategy=bes';
    const images = await bazel('build', [lacking, ...IMAGES], opts());
    expect(images.code, images.stderr).toBe(0);
    const load = await bazel('build', [lacking, '//shell_app:rc_load'], { ...opts(), allowFailure: true });
    expect(load.code).not.toBe(0);
    expect(load.stderr).toMatch(
      /invalid value "bes" for setting .*load_strategy: expected one of eager, lazy/,
    );
  });
});
