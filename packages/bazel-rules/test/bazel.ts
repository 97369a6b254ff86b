import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bazelChrootBase,
  bazelChrootProblem,
  bazelChrootRoot,
  isCI,
  type RunResult,
  repoRoot,
  run,
  TestUtilsError,
} from '@img/test-utils';

/** Where scripts/setup-bazel-chroot.sh keeps the Debian sid chroot with Bazel 7. */
export const CHROOT_BASE = bazelChrootBase();
export const CHROOT_ROOT = bazelChrootRoot();
export const BAZEL = join(CHROOT_BASE, 'bin', 'bazel');
export const EXAMPLES = join(repoRoot(), 'examples', 'bazel');
export const RULES_DIR = join(repoRoot(), 'packages', 'bazel-rules');
export const IMG_BUNDLE = join(RULES_DIR, 'img', 'private', 'img.cjs');

/**
 * One repository cache (inside the chroot) for every test workspace and output base: the downloaded
 * Node.js toolchain is fetched from the network once, then extracted from the cache.
 */
export const REPOSITORY_CACHE = '/var/cache/img-bazel/repository-cache';

/**
 * Output user roots live inside the chroot (so they survive between runs and CI steps); tests that
 * share one reuse its Bazel server and analysis cache.
 */
export function outputRoot(name: string): string {
  return `/var/cache/img-bazel/${name}`;
}

/** Why the chroot can't run Bazel for these tests (repo and temp dirs shared), or undefined. */
function chrootProblem(): string | undefined {
  return bazelChrootProblem([tmpdir()]);
}

/** True when the chroot is there and mounted (the repository and temp dir visible inside it). */
export function bazelAvailable(): boolean {
  return chrootProblem() === undefined;
}

/** Whether to skip Bazel tests: never under CI, where a missing chroot throws (a failure). */
export function skipWithoutBazel(): boolean {
  const problem = chrootProblem();
  if (problem === undefined) return false;
  if (isCI()) throw new TestUtilsError('IMG_TESTUTILS_MISSING_TOOL', problem);
  return true;
}

export type BazelMode = 'bzlmod' | 'workspace';

export const MODE_FLAGS: Record<BazelMode, string[]> = {
  bzlmod: ['--enable_bzlmod'],
  workspace: ['--noenable_bzlmod', '--enable_workspace'],
};

export interface BazelOptions {
  cwd?: string;
  /** Output user root (inside the chroot); see outputRoot(). */
  root: string;
  mode?: BazelMode;
  allowFailure?: boolean;
  timeoutMs?: number;
  /** Extra environment for the Bazel client (e.g. IMG_BAZEL_ENV: variables passed into the chroot). */
  env?: Record<string, string>;
  /**
   * Hide the chroot's own `node` (/usr/bin/node, which nodejs links to) from Bazel and everything it
   * starts: the client runs in a private mount namespace with an empty, non-executable file bound over
   * it, so the server it starts (and every action, worker and repository rule) sees no usable node.
   * Give such a root its own output user root, and shut down a server started without the mask first.
   */
  maskHostNode?: boolean;
}

const QUIET = ['--curses=no', '--color=no', '--show_progress_rate_limit=30'];

/** `bazel <command> <args>` in the chroot, from `cwd` (default examples/bazel). */
export async function bazel(
  command: string,
  args: readonly string[],
  opts: BazelOptions,
): Promise<RunResult> {
  const buildLike = ['build', 'test', 'run'].includes(command);
  const flags =
    command === 'shutdown' || command === 'clean' || command === 'info'
      ? []
      : [...QUIET, ...MODE_FLAGS[opts.mode ?? 'bzlmod'], `--repository_cache=${REPOSITORY_CACHE}`];
  const bazelArgs = [
    `--output_user_root=${opts.root}`,
    // Servers left behind by a test run exit on their own.
    '--max_idle_secs=300',
    command,
    ...flags,
    ...(buildLike ? ['--symlink_prefix=/'] : []),
    ...args,
  ];
  const runOpts = {
    cwd: opts.cwd ?? EXAMPLES,
    timeoutMs: opts.timeoutMs ?? 600_000,
    allowFailure: opts.allowFailure ?? false,
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  };
  if (!opts.maskHostNode) return run(BAZEL, bazelArgs, runOpts);
  const holder = await maskedNamespace();
  return run(
    'nsenter',
    [`--target=${holder}`, '--mount', `--wd=${runOpts.cwd}`, '--', BAZEL, ...bazelArgs],
    runOpts,
  );
}

/** Attributes of one `images.pull` tag: strings, or lists of strings (`registries`). */
export type PullTag = Readonly<Record<string, string | readonly string[]>>;

/**
 * MODULE.bazel of a test workspace (Bzlmod): img_rules from this checkout, platforms, bazel_skylib,
 * and one `images.pull` per entry of `pulls` (each a repository of the same name).
 */
export function testModule(name: string, pulls: readonly PullTag[] = []): string {
  const lines = [
    `module(name = ${JSON.stringify(name)})`,
    '',
    'bazel_dep(name = "img_rules", version = "0.1.0")',
    `local_path_override(module_name = "img_rules", path = ${JSON.stringify(RULES_DIR)})`,
    '',
    'bazel_dep(name = "platforms", version = "0.0.10")',
    'bazel_dep(name = "bazel_skylib", version = "1.7.1")',
  ];
  if (pulls.length > 0) {
    lines.push('', 'images = use_extension("@img_rules//img:extensions.bzl", "images")');
    for (const tag of pulls) {
      lines.push('images.pull(');
      for (const [k, v] of Object.entries(tag)) lines.push(`    ${k} = ${JSON.stringify(v)},`);
      lines.push(')');
    }
    lines.push(`use_repo(images, ${pulls.map((t) => JSON.stringify(t.name)).join(', ')})`);
  }
  return `${lines.join('\n')}\n`;
}

let masked: { child: ChildProcess; exited: boolean } | undefined;

/**
 * The pid of a process holding a private mount namespace in which the chroot's node is an empty,
 * non-executable file (see BazelOptions.maskHostNode). Every masked command enters this one namespace:
 * the Bazel client only reuses a server whose working directory it can see as its output base, which
 * fails across namespaces (each command would start a new server). endMaskedNamespace() stops it.
 */
async function maskedNamespace(): Promise<number> {
  if (masked && !masked.exited) return masked.child.pid!;
  const file = join(tmpdir(), 'img-bazel-masked-node');
  writeFileSync(file, '', { mode: 0o644 });
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation=private',
      'sh',
      '-c',
      'mount --bind "$1" "$2" && echo masked && exec sleep 86400',
      'sh',
      file,
      join(CHROOT_ROOT, 'usr', 'bin', 'node'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const state = { child, exited: false };
  child.on('exit', () => {
    state.exited = true;
  });
  process.once('exit', () => child.kill());
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) =>
      reject(
        new TestUtilsError(
          'IMG_TESTUTILS_COMMAND_FAILED',
          `masking the chroot's node failed (${code}): ${stderr}`,
        ),
      ),
    );
  });
  child.stdout.destroy();
  child.stderr.destroy();
  child.unref();
  masked = state;
  return child.pid!;
}

/** Stop the process holding the masked namespace (Bazel servers started in it keep running until shut down). */
export function endMaskedNamespace(): void {
  masked?.child.kill();
  masked = undefined;
}

/** The host path of a path inside the chroot. */
export function hostPath(pathInChroot: string): string {
  return join(CHROOT_ROOT, pathInChroot);
}

/** bazel-bin of the default configuration, as a host path. */
export async function bazelBin(opts: BazelOptions): Promise<string> {
  const r = await bazel('info', [...MODE_FLAGS[opts.mode ?? 'bzlmod'], 'bazel-bin'], opts);
  return hostPath(r.stdout.trim());
}

/** Output files of targets (host paths) in the build's configuration, via cquery --output=files. */
export async function outputFiles(
  targets: readonly string[],
  extra: readonly string[],
  opts: BazelOptions,
): Promise<string[]> {
  const execRoot = (
    await bazel('info', [...MODE_FLAGS[opts.mode ?? 'bzlmod'], 'execution_root'], opts)
  ).stdout.trim();
  const r = await bazel('cquery', [...extra, '--output=files', ...targets], opts);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => hostPath(join(execRoot, l.trim())));
}

/** `INFO: N processes: a internal, b worker.` -> { internal: a, worker: b, ... }. */
export function processSummary(stderr: string): Record<string, number> {
  const m = /INFO: \d+ process(?:es)?: ([^\n]*)\./.exec(stderr);
  const out: Record<string, number> = {};
  if (!m) return out;
  for (const part of m[1]!.split(',')) {
    const p = /(\d+) (.+)/.exec(part.trim());
    if (p) out[p[2]!] = Number(p[1]);
  }
  return out;
}

export async function readText(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

/** Run the bundled img CLI on the host. */
export function img(args: readonly string[], allowFailure = false): Promise<RunResult> {
  return run(process.execPath, [IMG_BUNDLE, ...args], { allowFailure });
}
