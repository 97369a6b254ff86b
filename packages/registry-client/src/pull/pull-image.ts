import type { Readable } from 'node:stream';
import {
  asIndex,
  asManifest,
  type BlobSource,
  type Descriptor,
  formatPlatform,
  type Index,
  isDistributable,
  isIndex,
  type Manifest,
  type Platform,
  parseJson,
  parsePlatform,
  platformMatchRank,
  selectPlatform,
} from '@img/oci-spec';
import { RegistryError } from '../errors.js';
import { mapLimit } from '../limit.js';
import { formatReference, type Reference } from '../reference.js';
import type { RequestStats, Transport } from '../transport/transport.js';
import { fetchBlobBytes, openBlob } from './blob.js';
import { fetchManifest, type RawDocument } from './manifest.js';

/** Receives one layer's verified stream during an eager pull; must consume it (e.g. `pipeline` to a file). */
export type LayerSink = (layer: Descriptor, body: Readable) => Promise<void>;

export interface PullOptions {
  /** Keep only the index entry that serves this platform (`linux/arm64` or a Platform). Default: all. */
  readonly platform?: string | Platform;
  /** Download every distinct distributable layer of the selected images, `jobs` at a time. Default: none (shallow). */
  readonly layers?: LayerSink;
  readonly signal?: AbortSignal;
}

/** One image manifest of a pull, with its config. */
export interface PulledManifest extends RawDocument {
  readonly manifest: Manifest;
  readonly config: RawDocument;
}

/** What a shallow pull returns: exact bytes of every document, no layer content. */
export interface PulledImage {
  /** Where the layers can be fetched or mounted from later (the `sources` of a BlobSource). */
  readonly source: BlobSource;
  readonly reference: Reference;
  /** What the reference resolved to: an index or a manifest, bytes exactly as received. */
  readonly root: RawDocument;
  readonly kind: 'index' | 'manifest';
  /**
   * Documents below the root that were fetched (child manifests and nested indexes), children before
   * their parents: the order a push needs. Empty when the root is a manifest.
   */
  readonly manifests: readonly RawDocument[];
  /** The image manifests selected (all of an index, or the one for `platform`), with configs. */
  readonly images: readonly PulledManifest[];
  readonly stats: RequestStats;
}

export interface PullConfig {
  readonly jobs: number;
  readonly maxManifestBytes: number;
  readonly maxConfigBytes: number;
}

function platformError(
  ref: Reference,
  wanted: Platform,
  available: readonly (Platform | undefined)[],
): RegistryError {
  const list = available.map((p) => (p ? formatPlatform(p) : 'unknown')).join(', ');
  return new RegistryError(
    'IMG_REGISTRY_PLATFORM_NOT_FOUND',
    `${formatReference(ref)}: no image for platform ${formatPlatform(wanted)} (available: ${list || 'none'})`,
    { registry: ref.registry, repository: ref.repository },
  );
}

/**
 * Resolve a reference to its root document and walk it: index children (all, or the one matching
 * `platform`), each manifest's config. Optionally streams layers to `layers`.
 */
export async function pullImage(
  transport: Transport,
  config: PullConfig,
  ref: Reference,
  options: PullOptions = {},
): Promise<PulledImage> {
  const stats: RequestStats = { requests: 0, retries: 0 };
  const ctx = { stats, signal: options.signal };
  const source: BlobSource = { registry: ref.registry, repository: ref.repository };
  const wanted = typeof options.platform === 'string' ? parsePlatform(options.platform) : options.platform;
  const root = await fetchManifest(transport, ref, config.maxManifestBytes, ctx);
  const kind = isIndex(root.descriptor.mediaType) ? 'index' : 'manifest';
  const manifests: RawDocument[] = [];
  const images: PulledManifest[] = [];

  const loadManifest = async (doc: RawDocument): Promise<PulledManifest> => {
    const where = `${formatReference(ref)}@${doc.descriptor.digest}`;
    const manifest = asManifest(parseJson(doc.bytes, where), where);
    const bytes = await fetchBlobBytes(transport, source, manifest.config, config.maxConfigBytes, ctx);
    return { ...doc, manifest, config: { descriptor: manifest.config, bytes } };
  };

  const fetchChild = async (entry: Descriptor): Promise<RawDocument> => {
    const child = await fetchManifest(
      transport,
      { ...source, digest: entry.digest },
      config.maxManifestBytes,
      ctx,
    );
    // Keep the index's descriptor (platform, annotations); the bytes were verified against its digest.
    return { descriptor: entry, bytes: child.bytes };
  };

  const walkIndex = async (doc: RawDocument, depth: number): Promise<void> => {
    const where = `${formatReference(ref)}@${doc.descriptor.digest}`;
    if (depth > 4)
      throw new RegistryError('IMG_REGISTRY_INVALID_RESPONSE', `${where}: indexes nested too deeply`);
    const index: Index = asIndex(parseJson(doc.bytes, where), where);
    let entries = index.manifests;
    if (wanted) {
      const i = selectPlatform(
        wanted,
        entries.map((e) => e.platform),
      );
      const nested = entries.filter((e) => isIndex(e.mediaType));
      if (i < 0 && nested.length === 0)
        throw platformError(
          ref,
          wanted,
          entries.map((e) => e.platform),
        );
      entries = i >= 0 ? [entries[i]!] : nested;
    }
    const children = await mapLimit(entries, config.jobs, async (entry) => {
      const child = await fetchChild(entry);
      return { child, image: isIndex(entry.mediaType) ? undefined : await loadManifest(child) };
    });
    for (const { child, image } of children) {
      if (image) images.push(image);
      else await walkIndex(child, depth + 1);
      manifests.push(child);
    }
  };

  if (kind === 'index') {
    await walkIndex(root, 0);
    if (wanted && images.length === 0) throw platformError(ref, wanted, []);
  } else {
    const image = await loadManifest(root);
    if (wanted) {
      const cfg = parseJson(image.config.bytes, `${formatReference(ref)} config`) as Partial<Platform>;
      const have = {
        os: String(cfg.os ?? ''),
        architecture: String(cfg.architecture ?? ''),
        variant: cfg.variant,
      };
      if (platformMatchRank(wanted, have) === undefined) throw platformError(ref, wanted, [have]);
    }
    images.push(image);
  }

  if (options.layers) {
    const seen = new Set<string>();
    const layers = images
      .flatMap((i) => i.manifest.layers)
      .filter((l) => isDistributable(l.mediaType) && !seen.has(l.digest) && seen.add(l.digest));
    const sink = options.layers;
    await mapLimit(layers, config.jobs, async (layer) =>
      sink(layer, await openBlob(transport, source, layer, ctx)),
    );
  }
  return { source, reference: ref, root, kind, manifests, images, stats };
}
