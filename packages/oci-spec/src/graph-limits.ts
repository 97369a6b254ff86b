import { SpecError } from './errors.js';

/**
 * Indexes nested in indexes below a root (a manifest under five levels of indexes is at depth 5).
 * Real images use one or two; the cap stops a small hostile document from making a deep walk.
 */
export const DEFAULT_MAX_DEPTH = 8;
/** Entries of one index, or layers of one manifest. Multi-platform indexes with attestations list ~30. */
export const DEFAULT_MAX_FAN_OUT = 1000;
/** Distinct manifests and indexes in one graph: bounds the requests a pull makes and the work of a walk. */
export const DEFAULT_MAX_DOCUMENTS = 1000;

/** Caps of a walk over an image graph; every walk also deduplicates by digest. */
export interface GraphLimits {
  /** Default DEFAULT_MAX_DEPTH. */
  readonly maxDepth?: number;
  /** Default DEFAULT_MAX_FAN_OUT. */
  readonly maxFanOut?: number;
  /** Default DEFAULT_MAX_DOCUMENTS. */
  readonly maxDocuments?: number;
}

/**
 * Counts the documents of one walk and refuses what exceeds its limits (IMG_GRAPH_LIMIT). Shared by the
 * in-memory walks and the registry pull, so both stop at the same place.
 */
export class GraphBudget {
  readonly maxDepth: number;
  readonly maxFanOut: number;
  readonly maxDocuments: number;
  #documents = 0;

  constructor(limits: GraphLimits = {}) {
    this.maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxFanOut = limits.maxFanOut ?? DEFAULT_MAX_FAN_OUT;
    this.maxDocuments = limits.maxDocuments ?? DEFAULT_MAX_DOCUMENTS;
  }

  /** One more distinct document, found at `depth` (the root is 0). */
  admit(depth: number, where: string): void {
    if (depth > this.maxDepth) {
      throw new SpecError('IMG_GRAPH_LIMIT', `${where}: indexes nested deeper than ${this.maxDepth} levels`);
    }
    if (++this.#documents > this.maxDocuments) {
      throw new SpecError(
        'IMG_GRAPH_LIMIT',
        `${where}: more than ${this.maxDocuments} distinct manifests and indexes in one image`,
      );
    }
  }

  /** A document listing `count` children (index entries or layers). */
  checkFanOut(count: number, where: string): void {
    if (count > this.maxFanOut) {
      throw new SpecError(
        'IMG_GRAPH_LIMIT',
        `${where}: ${count} entries, more than the limit of ${this.maxFanOut}`,
      );
    }
  }
}
