import type { Readable } from 'node:stream';
import {
  type BlobLocation,
  type BlobSource,
  type Descriptor,
  type Digest,
  documentLabel,
  formatPlatform,
  GraphBudget,
  type GraphLimits,
  type ImageGraph,
  isDistributable,
  isDocumentDescriptor,
  isImageConfig,
  isIndex,
  type Platform,
  parseConfig,
  parseDocument,
  parsePlatform,
  platformMatchRank,
  platformOfConfig,
  selectPlatform,
} from '@img/oci-spec';
import { RegistryError } from '../errors.js';
import { mapLimit } from '../limit.js';
import { formatReference, type Reference } from '../reference.js';
import type { RequestStats, Transport } from '../transport/transport.js';
import { fetchBlobBytes, openBlob } from './blob.js';
import { fetchManifest } from './manifest.js';

/** Receives one layer's verified stream during an eager pull; must consume it (e.g. `pipeline` to a file). */
export type LayerSink = (layer: Descriptor, body: Readable) => Promise<void>;

export interface PullOptions extends GraphLimits {
  /** Keep only the index entry that serves this platform (`linux/arm64` or a Platform). Default: all. */
  readonly platform?: string | Platform;
  /** Download every distinct distributable layer of the selected images, `jobs` at a time. Default: none (shallow). */
  readonly layers?: LayerSink;
  readonly signal?: AbortSignal;
}

/**
 * A pull, in the image model: the documents (indexes, manifests, configs) as exact bytes, no layer
 * bytes (`blobs` is empty), every layer located at the pulled repository. With `platform` on an
 * index, `root` is the selected image manifest; `resolved` is always what the reference named.
 */
export interface PullResult extends ImageGraph {
  readonly reference: Reference;
  /** What the reference resolved to (an index or a manifest). */
  readonly resolved: Descriptor;
  readonly locations: ReadonlyMap<Digest, readonly BlobLocation[]>;
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
 * `platform`), each manifest's config. Every document is checked by the shared document rules, fetched
 * once per digest however often it is listed, within the depth, fan-out and count caps (GraphLimits).
 * Optionally streams layers to `layers`.
 */
export async function pullImage(
  transport: Transport,
  config: PullConfig,
  ref: Reference,
  options: PullOptions = {},
): Promise<PullResult> {
  const stats: RequestStats = { requests: 0, retries: 0 };
  const ctx = { stats, signal: options.signal };
  const location: BlobLocation = { registry: ref.registry, repository: ref.repository };
  const wanted = typeof options.platform === 'string' ? parsePlatform(options.platform) : options.platform;
  const budget = new GraphBudget(options);
  const where = formatReference(ref);
  const resolved = await fetchManifest(transport, ref, config.maxManifestBytes, ctx);
  const documents = new Map<Digest, Uint8Array>();
  const images: Descriptor[] = [];
  const layers = new Map<Digest, Descriptor>();

  // Documents are claimed before they are fetched, so a digest listed again (even concurrently) is fetched once.
  const claimed = new Set<string>();
  const visit = async (d: Descriptor, bytes: Uint8Array | undefined, depth: number): Promise<void> => {
    if (claimed.has(d.digest)) return;
    claimed.add(d.digest);
    const what = documentLabel(d, where);
    budget.admit(depth, what);
    const body =
      bytes ??
      (await fetchManifest(transport, { ...location, digest: d.digest }, config.maxManifestBytes, ctx)).bytes;
    const parsed = parseDocument(body, d, what);
    documents.set(d.digest, body);
    if (parsed.kind === 'manifest') {
      const m = parsed.manifest;
      budget.checkFanOut(m.layers.length, what);
      if (!documents.has(m.config.digest)) {
        const cfg = await fetchBlobBytes(transport, location, m.config, config.maxConfigBytes, ctx);
        documents.set(m.config.digest, cfg);
        if (wanted && depth === 0 && isImageConfig(m.config.mediaType)) {
          const have = platformOfConfig(parseConfig(cfg, m.config, `${what}: config`));
          if (platformMatchRank(wanted, have) === undefined) throw platformError(ref, wanted, [have]);
        }
      }
      for (const l of m.layers) if (!layers.has(l.digest)) layers.set(l.digest, l);
      images.push(d);
      return;
    }
    const entries = parsed.index.manifests;
    budget.checkFanOut(entries.length, what);
    let chosen = entries.filter(isDocumentDescriptor);
    if (wanted) {
      const i = selectPlatform(
        wanted,
        entries.map((e) => e.platform),
      );
      const nested = chosen.filter((e) => isIndex(e.mediaType));
      if (i < 0 && nested.length === 0)
        throw platformError(
          ref,
          wanted,
          entries.map((e) => e.platform),
        );
      chosen = i >= 0 ? [entries[i]!] : nested;
    }
    await mapLimit(chosen, config.jobs, (child) => visit(child, undefined, depth + 1));
  };
  await visit(resolved.descriptor, resolved.bytes, 0);
  if (wanted && images.length === 0) throw platformError(ref, wanted, []);

  if (options.layers) {
    const sink = options.layers;
    const wantedLayers = [...layers.values()].filter((l) => isDistributable(l.mediaType));
    await mapLimit(wantedLayers, config.jobs, async (layer) =>
      sink(layer, await openBlob(transport, location, layer, ctx)),
    );
  }
  const origin = [location];
  const locations = new Map<Digest, readonly BlobLocation[]>([...layers.keys()].map((d) => [d, origin]));
  // With a platform on an index, the selected image is the root: the walk fetched nothing else.
  const root = wanted && isIndex(resolved.descriptor.mediaType) ? images[0]! : resolved.descriptor;
  return {
    root,
    resolved: resolved.descriptor,
    documents,
    blobs: new Map<Digest, BlobSource>(),
    locations,
    reference: ref,
    stats,
  };
}
