import { type AssembledImage, type BaseImage, buildImage, buildIndex } from '@img/image-assembly';
import { type Descriptor, type ImageGraph, type LayerMetadata, unixToRfc3339 } from '@img/oci-spec';
import type { Io } from '../io.js';
import { type PlatformImageSpec, readImageSpec } from '../spec/image-spec.js';
import { atSpecKey } from '../spec/spec-errors.js';
import { readJsonInput } from '../util/files.js';
import { sourceDateEpoch } from '../util/flags.js';
import { warnIfGzipNotReference } from '../util/gzip-warning.js';
import { GraphCollector } from './content.js';
import { baseImageOf, openBaseLayout } from './load-base.js';
import { buildSpecLayer } from './spec-layer.js';

export interface BuildResult {
  readonly root: Descriptor;
  readonly images: AssembledImage[];
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

/** The base image a platform names (its errors name the spec key `base`); adds its blobs to `collector`. */
async function loadSpecBase(
  spec: PlatformImageSpec,
  ref: string,
  specPath: string,
  collector: GraphCollector,
): Promise<BaseImage> {
  return await atSpecKey(spec.keyPaths.base, specPath, async () => {
    const layout = await openBaseLayout(ref);
    const base = baseImageOf(layout, ref, spec.platform, spec.where);
    // The base's layer files (when the layout has them) and locations; its documents are not needed.
    collector.addGraph({ ...layout, documents: new Map() });
    return base;
  });
}

async function buildPlatformImage(
  spec: PlatformImageSpec,
  specPath: string,
  collector: GraphCollector,
  workDir: string,
  epoch: number | undefined,
  n: number,
): Promise<AssembledImage> {
  const keys = spec.keyPaths;
  const base = spec.base ? await loadSpecBase(spec, spec.base, specPath, collector) : undefined;
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
      ...(base ? { base } : {}),
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
 * Build the image (or index) a spec file describes into an ImageGraph whose layer blobs live in
 * `workDir` (the caller removes it once the image has been written or loaded).
 */
export async function buildSpecContent(
  specPath: string,
  workDir: string,
  io?: Io,
): Promise<BuildResult & { graph: ImageGraph }> {
  const spec = await readImageSpec(specPath);
  if (io) {
    for (const layer of spec.images.flatMap((i) => i.layers)) {
      if ((layer.compress ?? 'gzip') === 'gzip') warnIfGzipNotReference(io, layer.compressionLevel);
    }
  }
  const epoch = sourceDateEpoch();
  const collector = new GraphCollector();
  const images: AssembledImage[] = [];
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
  return { root, images, graph: collector.graph(root) };
}
