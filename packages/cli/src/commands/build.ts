import { type BuiltImage, buildImage, buildIndex } from '@img/image-assembly';
import type { ImageContent } from '@img/oci-layout';
import { type Descriptor, unixToRfc3339 } from '@img/oci-spec';
import type { Command } from 'commander';
import { ContentCollector } from '../image/content.js';
import { loadBase } from '../image/load-base.js';
import {
  checkOutputTarget,
  FORCE_HELP,
  type LayoutDirectoryFlags,
  parseOutputTarget,
  writeOutput,
} from '../image/output.js';
import { buildSpecLayer } from '../image/spec-layer.js';
import type { Io } from '../io.js';
import { type PlatformImageSpec, readImageSpec } from '../spec/image-spec.js';
import { CliError } from '../util/errors.js';
import { readJsonInput } from '../util/files.js';
import { collect, sourceDateEpoch } from '../util/flags.js';
import { warnIfGzipNotReference } from '../util/gzip-warning.js';
import { addRegistryFlags } from '../util/registry.js';
import { createWorkDir, removeWorkDir } from '../util/work-dir.js';
import { type PushFlags, pushContent } from './push.js';

export interface BuildResult {
  readonly root: Descriptor;
  readonly images: BuiltImage[];
}

async function buildPlatformImage(
  spec: PlatformImageSpec,
  collector: ContentCollector,
  workDir: string,
  epoch: number | undefined,
  n: number,
): Promise<BuiltImage> {
  const base = spec.base ? await loadBase(spec.base, spec.platform, spec.where) : undefined;
  if (base) {
    collector.addBlobHandles(base.blobs);
    collector.addSources(base.sources);
  }
  const layers = [];
  for (const [i, layer] of spec.layers.entries()) {
    const built = await buildSpecLayer(layer, workDir, `p${n}-l${i}`, {
      ...(epoch !== undefined ? { mtime: epoch } : {}),
      where: `${spec.where}: layers[${i}]`,
    });
    collector.addBlobFile(built.metadata, built.blobPath);
    layers.push(built.metadata);
  }
  const c = spec.config;
  const fragment = spec.configFragment
    ? ((await readJsonInput(spec.configFragment, 'config fragment')) as Record<string, unknown>)
    : undefined;
  const created = spec.created ?? (epoch !== undefined ? unixToRfc3339(epoch) : undefined);
  const image = buildImage({
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
  });
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
    images.push(await buildPlatformImage(image, collector, workDir, epoch, n));
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
export interface BuildFlags extends PushFlags, LayoutDirectoryFlags {
  output?: string;
  push?: string;
}

/** Build the image (or index) a spec file describes, write it to `--output` and/or push it. */
export async function runBuild(specPath: string, flags: BuildFlags, io: Io): Promise<BuildResult> {
  if (!flags.output && !flags.push) throw new CliError('IMG_CLI_USAGE', 'give --output, --push, or both');
  const target = flags.output ? parseOutputTarget(flags.output) : undefined;
  if (target) await checkOutputTarget(target, flags);
  const workDir = await createWorkDir('img-build-');
  try {
    const { root, images, content } = await buildSpecContent(specPath, workDir, io);
    if (target) {
      await writeOutput(content, target, flags);
      io.out(`${flags.output}@${root.digest}`);
    }
    if (flags.push) await pushContent(content, flags.push, flags, io);
    return { root, images };
  } finally {
    await removeWorkDir(workDir);
  }
}

export function registerBuild(program: Command, io: Io): void {
  const cmd = program
    .command('build')
    .description('build an image (or a multi-platform index) from an image spec JSON file')
    .argument('<spec>', 'image spec JSON file (paths inside are relative to it)')
    .option('-o, --output <target>', 'oci:DIR | oci-archive:FILE | docker-archive:FILE[:NAME:TAG]')
    .option('--force', FORCE_HELP)
    .option('--push <reference>', 'push the result to registry/repository[:tag]')
    .option('-t, --tag <tag>', 'with --push: another tag (repeatable)', collect)
    .option('--json', 'with --push: print a JSON summary');
  addRegistryFlags(cmd)
    .addHelpText(
      'after',
      `
Spec file:
  { "platform": "linux/amd64", "base": "oci:DIR" (optional; also a directory from img pull),
    "layers": [ { "files": {"/app/x": "rel/path"}, "directories": {"/app/static": "rel/dir"},
                  "symlinks": {"/app/y": "/app/x"}, "metadata": {"/app/x": {"mode": "0755"}},
                  "compress": "gzip" | "zstd" | "none" } ],
    "config": { "entrypoint": [], "cmd": [], "env": {}, "user": "", "workdir": "",
                "labels": {}, "exposedPorts": [], "volumes": [], "stopSignal": "" },
    "annotations": {} }
  A list of such specs under "platforms" builds an index (top-level fields are shared defaults).
SOURCE_DATE_EPOCH sets file mtimes and the config's created time.`,
    )
    .action(async (spec: string, flags: BuildFlags) => {
      await runBuild(spec, flags, io);
    });
}
