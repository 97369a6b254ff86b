import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltImage, buildImage, buildIndex } from '@img/image-assembly';
import type { ImageContent } from '@img/oci-layout';
import { type Descriptor, type LayerMetadata, unixToRfc3339 } from '@img/oci-spec';
import type { Command } from 'commander';
import { ContentCollector } from '../image/content.js';
import { loadBase } from '../image/load-base.js';
import { parseOutputTarget, writeOutput } from '../image/output.js';
import { buildSpecLayer } from '../image/spec-layer.js';
import type { Io } from '../io.js';
import { type PlatformImageSpec, readImageSpec } from '../spec/image-spec.js';
import { atSpecKey } from '../spec/spec-errors.js';
import { CliError } from '../util/errors.js';
import { readJsonInput } from '../util/files.js';
import { collect, sourceDateEpoch } from '../util/flags.js';
import { warnIfGzipNotReference } from '../util/gzip-warning.js';
import { addRegistryFlags } from '../util/registry.js';
import { type PushFlags, pushContent } from './push.js';

export interface BuildResult {
  readonly root: Descriptor;
  readonly images: BuiltImage[];
}

/** The spec's config fragment file, with config.healthcheck (which wins) merged into its container config. */
async function configFragmentOf(spec: PlatformImageSpec): Promise<Record<string, unknown> | undefined> {
  const file = spec.configFragment
    ? ((await readJsonInput(spec.configFragment, 'config fragment')) as Record<string, unknown>)
    : undefined;
  if (!spec.healthcheck) return file;
  const container = (file?.config ?? {}) as Record<string, unknown>;
  return { ...file, config: { ...container, Healthcheck: spec.healthcheck } };
}

async function buildPlatformImage(
  spec: PlatformImageSpec,
  specPath: string,
  collector: ContentCollector,
  workDir: string,
  epoch: number | undefined,
  n: number,
): Promise<BuiltImage> {
  const keys = spec.keyPaths;
  const base = spec.base
    ? await atSpecKey(keys.base, specPath, () => loadBase(spec.base!, spec.platform, spec.where))
    : undefined;
  if (base) {
    collector.addBlobHandles(base.blobs);
    collector.addSources(base.sources);
  }
  const layers: LayerMetadata[] = [];
  for (const [i, layer] of spec.layers.entries()) {
    const built = await buildSpecLayer(layer, workDir, `p${n}-l${i}`, {
      ...(epoch !== undefined ? { mtime: epoch } : {}),
      where: `${keys.layers}[${i}]`,
      specPath,
    });
    collector.addBlobFile(built.metadata, built.blobPath);
    layers.push(built.metadata);
  }
  const c = spec.config;
  const fragment = await atSpecKey(keys.configFragment, specPath, () => configFragmentOf(spec));
  const created = spec.created ?? (epoch !== undefined ? unixToRfc3339(epoch) : undefined);
  const image = await atSpecKey(keys.config, specPath, () =>
    buildImage({
      platform: spec.platform,
      layers,
      ...(base ? { base: base.image } : {}),
      ...(fragment ? { configFragment: fragment } : {}),
      ...(c.env ? { env: c.env } : {}),
      ...(c.entrypoint ? { entrypoint: c.entrypoint } : {}),
      ...(c.cmd ? { cmd: c.cmd } : {}),
      ...(c.user !== undefined ? { user: c.user } : {}),
      ...(c.workdir !== undefined ? { workingDir: c.workdir } : {}),
      ...(c.labels ? { labels: c.labels } : {}),
      ...(c.exposedPorts ? { exposedPorts: c.exposedPorts.map(String) } : {}),
      ...(c.volumes ? { volumes: c.volumes } : {}),
      ...(c.stopSignal !== undefined ? { stopSignal: c.stopSignal } : {}),
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
      ...(created !== undefined ? { created } : {}),
      ...(epoch !== undefined ? { historyCreated: unixToRfc3339(epoch) } : {}),
    }),
  );
  collector.addImage(image);
  return image;
}

/**
 * Build the image (or index) a spec file describes into an ImageContent whose layer blobs live in
 * `workDir` (the caller removes it once the content has been written or loaded).
 */
export async function buildSpecContent(
  specPath: string,
  workDir: string,
  io?: Io,
): Promise<BuildResult & { content: ImageContent }> {
  const spec = await readImageSpec(specPath);
  if (io) {
    for (const layer of spec.images.flatMap((i) => i.layers)) {
      if ((layer.compress ?? 'gzip') === 'gzip') warnIfGzipNotReference(io, layer.compressionLevel);
    }
  }
  const epoch = sourceDateEpoch();
  const collector = new ContentCollector();
  const images: BuiltImage[] = [];
  for (const [n, image] of spec.images.entries()) {
    images.push(await buildPlatformImage(image, specPath, collector, workDir, epoch, n));
  }
  let root: Descriptor = images[0]!.descriptor;
  if (spec.isIndex) {
    const index = buildIndex(
      images.map((i) => i.descriptor),
      spec.indexAnnotations ? { annotations: spec.indexAnnotations } : {},
    );
    collector.addIndex(index);
    root = index.descriptor;
  }
  return { root, images, content: collector.content(root) };
}

/** Build the image (or index) a spec file describes and write it to `output`. */
export interface BuildFlags extends PushFlags {
  output?: string;
  push?: string;
}

/** Build the image (or index) a spec file describes, write it to `--output` and/or push it. */
export async function runBuild(specPath: string, flags: BuildFlags, io: Io): Promise<BuildResult> {
  if (!flags.output && !flags.push) throw new CliError('IMG_CLI_USAGE', 'give --output, --push, or both');
  const target = flags.output ? parseOutputTarget(flags.output) : undefined;
  const workDir = await mkdtemp(join(tmpdir(), 'img-build-'));
  try {
    const { root, images, content } = await buildSpecContent(specPath, workDir, io);
    if (target) {
      await writeOutput(content, target, flags);
      io.out(`${flags.output}@${root.digest}`);
    }
    if (flags.push) await pushContent(content, flags.push, flags, io);
    return { root, images };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

export function registerBuild(program: Command, io: Io): void {
  const cmd = program
    .command('build')
    .description('build an image (or a multi-platform index) from an image spec JSON file')
    .argument('<spec>', 'image spec JSON file (paths inside are relative to it)')
    .option('-o, --output <target>', 'oci:DIR | oci-archive:FILE | docker-archive:FILE[:NAME:TAG]')
    .option('--push <reference>', 'push the result to registry/repository[:tag]')
    .option('-t, --tag <tag>', 'with --push: another tag (repeatable)', collect)
    .option('--json', 'with --push: print a JSON summary');
  addRegistryFlags(cmd)
    .addHelpText(
      'after',
      `
Spec file (JSON schema with every field: image-spec.schema.json in this package; name it in "$schema"):
  { "platform": "linux/amd64", "base": "oci:DIR" (optional; also a directory from img pull),
    "layers": [ { "files": {"/app/x": "rel/path"}, "directories": {"/app/static": "rel/dir",
                  "/srv": {"source": "srv", "excludes": ["*.log", "node_modules/"], "uid": 1000, "gid": 1000}},
                  "symlinks": {"/app/y": "/app/x"}, "metadata": {"/app/x": {"mode": "0755"}},
                  "compress": "gzip" | "zstd" | "none" } ],
    "config": { "entrypoint": [], "cmd": [], "env": {}, "user": "", "workdir": "",
                "labels": {}, "exposedPorts": [], "volumes": [], "stopSignal": "",
                "healthcheck": { "test": "curl -f http://localhost/", "interval": "30s", "retries": 3 } },
    "annotations": {} }
  A list of such specs under "platforms" builds an index. Top-level fields are shared defaults: a
  platform's config is merged over them key by key (env and labels by name, arrays replaced), its
  annotations by key; its base, layers, configFragment and created replace the shared ones.
SOURCE_DATE_EPOCH sets file mtimes and the config's created time.`,
    )
    .action(async (spec: string, flags: BuildFlags) => {
      await runBuild(spec, flags, io);
    });
}
