import type { BlobLocation, BlobSource } from './blob-source.js';
import { bytesBlobSource } from './blob-source.js';
import type { Digest } from './digest.js';
import { type ParsedDocument, parseDocument } from './document-rules.js';
import { SpecError } from './errors.js';
import { GraphBudget, type GraphLimits } from './graph-limits.js';
import { isIndex, isManifest } from './media-types.js';
import type { Descriptor } from './types.js';

/**
 * An image or an index as plain data: the one model that pull returns, build produces, and push, the
 * loaders and the layout writers take.
 * - `documents`: the indexes, manifests and configs reachable from `root`, by digest, as their exact bytes.
 * - `blobs`: the blobs whose bytes are at hand (layer files, layout members...), by digest.
 * - `locations`: registries/repositories holding blobs, by digest. A layer absent from `blobs` but with
 *   locations (a base layer of a shallow pull) is mounted on push, fetched on load, or left out of a
 *   shallow layout.
 */
export interface ImageGraph {
  readonly root: Descriptor;
  readonly documents: ReadonlyMap<Digest, Uint8Array>;
  readonly blobs: ReadonlyMap<Digest, BlobSource>;
  readonly locations?: ReadonlyMap<Digest, readonly BlobLocation[]>;
}

/** Options of every walk over an ImageGraph. */
export interface WalkOptions extends GraphLimits {
  /** Names the graph in error messages (a layout, a reference). */
  readonly where?: string;
}

/** A manifest or index met by a walk, with the descriptor it was first referenced by. */
export type GraphDocument = ParsedDocument & { readonly descriptor: Descriptor };

/** True for a descriptor a walk follows: an index or a manifest (other index entries are skipped). */
export function isDocumentDescriptor(d: Descriptor): boolean {
  return isIndex(d.mediaType) || isManifest(d.mediaType);
}

/** Names a document in messages: `index sha256:...` or `manifest sha256:...`. */
export function documentLabel(d: Descriptor, where?: string): string {
  const label = `${isIndex(d.mediaType) ? 'index' : 'manifest'} ${d.digest}`;
  return where ? `${where}: ${label}` : label;
}

/**
 * Every manifest and index reachable from the root, each once (by digest), children before parents,
 * each checked by the shared document rules (parseDocument). Index entries that are neither manifests
 * nor indexes are skipped. Throws IMG_GRAPH_LIMIT past the depth, fan-out and count caps, and
 * IMG_DOCUMENT_MISSING for a document absent from `graph.documents`.
 */
export function walkDocuments(graph: ImageGraph, options: WalkOptions = {}): GraphDocument[] {
  const budget = new GraphBudget(options);
  const out: GraphDocument[] = [];
  const seen = new Set<string>();
  const visit = (descriptor: Descriptor, depth: number, parent?: string): void => {
    if (seen.has(descriptor.digest)) return;
    seen.add(descriptor.digest);
    const where = documentLabel(descriptor, options.where);
    budget.admit(depth, where);
    const bytes = graph.documents.get(descriptor.digest);
    if (!bytes) {
      throw new SpecError(
        'IMG_DOCUMENT_MISSING',
        parent
          ? `${parent}: child ${descriptor.digest} is not among the manifests of the image`
          : `${where}: the root document is missing`,
      );
    }
    const parsed = parseDocument(bytes, descriptor, where);
    if (parsed.kind === 'index') {
      budget.checkFanOut(parsed.index.manifests.length, where);
      for (const child of parsed.index.manifests) {
        if (isDocumentDescriptor(child)) visit(child, depth + 1, where);
      }
    } else {
      budget.checkFanOut(parsed.manifest.layers.length, where);
    }
    out.push({ ...parsed, descriptor });
  };
  visit(graph.root, 0);
  return out;
}

/**
 * Every descriptor reachable from the root, each once: `documents` are indexes, manifests and configs,
 * children before parents (the order a push or a load writes them in); `layers` follow in the order
 * the manifests list them.
 */
export function reachableDescriptors(
  graph: ImageGraph,
  options: WalkOptions = {},
): { documents: Descriptor[]; layers: Descriptor[] } {
  const documents: Descriptor[] = [];
  const layers = new Map<string, Descriptor>();
  const seen = new Set<string>();
  for (const doc of walkDocuments(graph, options)) {
    if (doc.kind === 'manifest') {
      const { config } = doc.manifest;
      if (!seen.has(config.digest)) {
        seen.add(config.digest);
        documents.push(config);
      }
      for (const l of doc.manifest.layers) if (!layers.has(l.digest)) layers.set(l.digest, l);
    }
    seen.add(doc.descriptor.digest);
    documents.push(doc.descriptor);
  }
  return { documents, layers: [...layers.values()] };
}

/** Where the bytes of any blob of the graph are: a document from memory, else its source in `blobs`. */
export function graphBlobSource(graph: ImageGraph, descriptor: Descriptor): BlobSource | undefined {
  const bytes = graph.documents.get(descriptor.digest);
  if (bytes) return bytesBlobSource(descriptor, bytes);
  return graph.blobs.get(descriptor.digest);
}
