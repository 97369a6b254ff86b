import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltImage, buildImage, buildIndex } from '@img/image-assembly';
import { type Descriptor, unixToRfc3339 } from '@img/oci-spec';
import type { Command } from 'commander';
import { ContentCollector } from '../image/content.js';
import { loadBase } from '../image/load-base.js';
import { parseOutputTarget, writeOutput } from '../image/output.js';
import { buildSpecLayer } from '../image/spec-layer.js';
import type { Io } from '../io.js';
import { type PlatformImageSpec, readImageSpec } from '../spec/image-spec.js';
import { readJsonInput } from '../util/files.js';
import { sourceDateEpoch } from '../util/flags.js';

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
  if (base) collector.addBlobHandles(base.blobs);
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

/** Build the image (or index) a spec file describes and write it to `output`. */
export async function runBuild(specPath: string, output: string, io: Io): Promise<BuildResult> {
  const target = parseOutputTarget(output);
  const spec = await readImageSpec(specPath);
  const epoch = sourceDateEpoch();
  const workDir = await mkdtemp(join(tmpdir(), 'img-build-'));
  try {
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
    await writeOutput(collector.content(root), target);
    io.out(`${output}@${root.digest}`);
    return { root, images };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

export function registerBuild(program: Command, io: Io): void {
  program
    .command('build')
    .description('build an image (or a multi-platform index) from an image spec JSON file')
    .argument('<spec>', 'image spec JSON file (paths inside are relative to it)')
    .requiredOption('-o, --output <target>', 'oci:DIR | oci-archive:FILE | docker-archive:FILE[:NAME:TAG]')
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
    .action(async (spec: string, opts: { output: string }) => {
      await runBuild(spec, opts.output, io);
    });
}
