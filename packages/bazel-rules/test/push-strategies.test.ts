import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CountingProxy,
  ciRequires,
  run,
  startBuildGrid,
  startContainerd,
  startCountingProxy,
  startRegistry,
  type TestBuildGrid,
  type TestContainerd,
  type TestRegistry,
  useTempDir,
} from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bazel, IMG_BUNDLE, outputRoot, skipWithoutBazel, testModule } from './bazel.js';

// The cas_registry and bes push strategies with real Bazel 7 (chroot), a real remote cache
// (BuildGrid), the CAS registry (`img registry serve --reapi-endpoint`), the BES listener
// (`img bes serve`), Debian's docker-registry as the BES destination, and skopeo, crane and
// containerd as clients. Bytes sent to the registries are counted on the wire (TCP proxies).
const skipBazel = skipWithoutBazel();
const needs = ciRequires(
  'bgd',
  'docker-registry',
  'crane',
  'skopeo',
  'containerd',
  'ctr',
  'runc',
  'busybox',
  {
    root: true,
  },
);
const skip = skipBazel || needs.skip;
const tmp = useTempDir('bazel-push-strategies-');
const ROOT = outputRoot('push-strategies');

/** A long-running `img` server (registry serve, bes serve): its address (first stdout line) and its log. */
interface ImgServer {
  readonly address: string;
  readonly child: ChildProcess;
  log(): string;
  /** Resolves once the log has a line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function startImgServer(args: readonly string[]): Promise<ImgServer> {
  const child = spawn(process.execPath, [IMG_BUNDLE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let out = '';
  const waiters: Array<() => void> = [];
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.once('exit', (code) => reject(new Error(`img ${args.join(' ')} exited ${code}: ${log}`)));
  });
  return {
    address,
    child,
    log: () => log,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = log.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} in:\n${log}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 500);
        });
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

const BUILD = (casRegistry: string, registry: string) => `
load("@img_rules//img:image.bzl", "image_manifest")
load("@img_rules//img:layer.bzl", "file_metadata", "image_layer")
load("@img_rules//img:push.bzl", "image_push")

image_layer(
    name = "busybox",
    srcs = {"/bin/busybox": "busybox.bin"},
    symlinks = {"/bin/sh": "busybox", "/bin/cat": "busybox"},
    file_metadata = {"/bin/busybox": file_metadata(mode = "0755")},
    compress = "gzip",
)

image_layer(
    name = "msg",
    srcs = {"/etc/msg": "msg.txt"},
    compress = "gzip",
)

image_manifest(
    name = "image",
    layers = [":busybox", ":msg"],
    cmd = ["/bin/sh", "-c", "echo from-$(cat /etc/msg)"],
)

image_push(
    name = "push_cas",
    image = ":image",
    registry = "${casRegistry}",
    repository = "strategies/cas",
    tag = "v1",
    strategy = "cas_registry",
)

image_push(
    name = "push_bes",
    image = ":image",
    registry = "${registry}",
    repository = "strategies/bes",
    tag = "v1",
    tag_list = ["latest"],
    strategy = "bes",
)

# Builds for a few seconds before the image exists: time to kill the BES listener mid-build.
genrule(
    name = "slow_msg",
    outs = ["slow_msg.txt"],
    cmd = "sleep 8; echo slow > $@",
)

image_layer(
    name = "slow_layer",
    srcs = {"/etc/msg": ":slow_msg"},
    compress = "gzip",
)

image_manifest(
    name = "slow_image",
    layers = [":busybox", ":slow_layer"],
)

image_push(
    name = "push_bes_slow",
    image = ":slow_image",
    registry = "${registry}",
    repository = "strategies/killed",
    tag = "v1",
    strategy = "bes",
)
`;

describe.skipIf(skip)('push strategies cas_registry and bes (Bazel 7, BuildGrid, real registries)', () => {
  let grid: TestBuildGrid;
  let registry: TestRegistry;
  let casRegistry: ImgServer;
  let casProxy: CountingProxy;
  let besProxy: CountingProxy;
  let listener: ImgServer;
  let ctrd: TestContainerd;
  let ws: string;
  const opts = () => ({ root: ROOT, cwd: ws });
  const cacheFlags = () => [`--remote_cache=${grid.endpoint}`, '--remote_download_minimal'];

  beforeAll(async () => {
    [grid, registry, ctrd] = await Promise.all([
      startBuildGrid({ instanceNames: [''] }),
      startRegistry(),
      startContainerd(),
    ]);
    casRegistry = await startImgServer([
      'registry',
      'serve',
      '--port',
      '0',
      '--storage',
      tmp.join('cas-registry'),
      '--reapi-endpoint',
      grid.endpoint,
    ]);
    casProxy = await startCountingProxy({ targetPort: Number(casRegistry.address.split(':')[1]) });
    besProxy = await startCountingProxy({ targetPort: registry.port });
    listener = await startImgServer([
      'bes',
      'serve',
      '--port',
      '0',
      '--cas-endpoint',
      grid.endpoint,
      '--verbose',
    ]);
    ws = tmp.join('ws');
    await mkdir(ws, { recursive: true });
    await writeFile(join(ws, 'MODULE.bazel'), testModule('push_strategies_e2e'));
    await writeFile(join(ws, 'WORKSPACE.bzlmod'), '');
    await copyFile('/bin/busybox', join(ws, 'busybox.bin'));
    await writeFile(join(ws, 'msg.txt'), 'cas');
    // Pushes go through the counting proxies; loopback addresses keep plain HTTP.
    await writeFile(join(ws, 'BUILD.bazel'), BUILD(casProxy.address, besProxy.address));
  });

  afterAll(async () => {
    if (ws) await bazel('shutdown', [], { ...opts(), allowFailure: true });
    await listener?.stop();
    await casRegistry?.stop();
    await casProxy?.close();
    await besProxy?.close();
    await Promise.all([grid?.stop(), registry?.stop(), ctrd?.stop()]);
  });

  it('cas_registry: bazel run sends only the config and the manifest; skopeo, crane and containerd pull it, ctr run runs it', async () => {
    const built = await bazel('build', [...cacheFlags(), '//:push_cas'], opts());
    expect(built.code, built.stderr).toBe(0);
    casProxy.reset();
    const r = await bazel('run', [...cacheFlags(), '//:push_cas'], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/blobs: 1 uploaded, 2 skipped, 0 mounted; [\d.]+ (B|KiB) sent in \d+ requests/);
    const sent = casProxy.bytesUp();
    const ref = `${casRegistry.address}/strategies/cas:v1`;
    const manifest = JSON.parse((await run('crane', ['manifest', '--insecure', ref])).stdout);
    const layerBytes = manifest.layers.reduce((n: number, l: { size: number }) => n + l.size, 0);
    expect(layerBytes).toBeGreaterThan(500_000);
    // The config and the manifest (a few hundred bytes each) plus HTTP headers: no layer byte.
    expect(sent).toBeLessThan(manifest.config.size + 2_000 + 10_000);

    await run('crane', ['validate', '--insecure', '--remote', ref]);
    await run('skopeo', [
      'copy',
      '--src-tls-verify=false',
      `docker://${ref}`,
      `oci:${tmp.join('skopeo')}:v1`,
    ]);
    const ns = ctrd.newNamespace('cas');
    await ctrd.ctr(['images', 'pull', '--plain-http', ref], { namespace: ns });
    const out = await ctrd.ctr(['run', '--rm', ref, `cas-${Date.now()}`], { namespace: ns });
    expect(out.stdout.trim()).toBe('from-cas');
  });

  it('bes: bazel build is the push; the image validates; a second build pushes nothing new', async () => {
    const flags = [...cacheFlags(), `--bes_backend=grpc://${listener.address}`];
    besProxy.reset();
    const r = await bazel('build', [...flags, '//:push_bes'], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Build Event Protocol upload failed|ERROR:.*(BES|Build Event)/);
    await listener.waitFor(/\/\/:push_bes: pushed .*strategies\/bes:v1@sha256/);
    expect(listener.log()).toMatch(/\/\/:push_bes: pushed .*strategies\/bes:latest@sha256/);
    await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/strategies/bes:v1`]);
    const firstPush = besProxy.bytesUp();
    expect(firstPush).toBeGreaterThan(500_000);

    // bazel run of a bes target does nothing: the push happened at build time.
    const ran = await bazel('run', [...flags, '//:push_bes'], opts());
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(/pushed at build time by the BES listener/);

    const pushes = () =>
      listener
        .log()
        .split('\n')
        .filter((l) => /\/\/:push_bes: pushed/.test(l));
    const before = pushes().length;
    besProxy.reset();
    await bazel('clean', [], opts());
    const again = await bazel('build', [...flags, '//:push_bes'], opts());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/remote cache hit/);
    const deadline = Date.now() + 60_000;
    while (pushes().length <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 300));
    expect(pushes().slice(before)).toEqual(
      expect.arrayContaining([expect.stringMatching(/\(0 blobs, 0 bytes, 0 manifests sent; /)]),
    );
    // HEADs of the tags only.
    expect(besProxy.bytesUp()).toBeLessThan(5_000);
  });

  it('bes: a listener killed mid-build makes Bazel report a BES error, never a corrupted image', async () => {
    const doomed = await startImgServer([
      'bes',
      'serve',
      '--port',
      '0',
      '--cas-endpoint',
      grid.endpoint,
      '--verbose',
    ]);
    const build = bazel(
      'build',
      [...cacheFlags(), `--bes_backend=grpc://${doomed.address}`, '--bes_timeout=20s', '//:push_bes_slow'],
      { ...opts(), allowFailure: true },
    );
    await doomed.waitFor(/stream opened/);
    await doomed.stop('SIGKILL');
    const r = await build;
    // Bazel's exit code 38: the build succeeded, the build event upload did not.
    expect(r.code, r.stderr).toBe(38);
    expect(r.stderr).toMatch(/ERROR: The Build Event Protocol upload failed/);
    const tags = await run('crane', ['ls', '--insecure', `${registry.url}/strategies/killed`], {
      allowFailure: true,
    });
    if (tags.code === 0 && tags.stdout.trim() !== '') {
      await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/strategies/killed:v1`]);
    } else {
      expect(`${tags.stdout}${tags.stderr}`).toMatch(/NAME_UNKNOWN|not found|^$/i);
    }
  });
});
