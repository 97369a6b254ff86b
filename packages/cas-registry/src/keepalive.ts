import { channel } from 'node:diagnostics_channel';
import type { RefreshableBlobStore, SizedBlob } from './blob-store.js';
import type { RegistryContext } from './context.js';
import { liveBlobs } from './graph.js';

/** One event per keepalive pass (`KeepAliveReport`, with `error` when the pass failed). */
export const KEEPALIVE_CHANNEL = 'img:cas-registry:keepalive';
const events = channel(KEEPALIVE_CHANNEL);

export interface KeepAliveReport {
  /** Blobs some tag reaches. */
  readonly live: number;
  /** Blobs asked about (the most recently used live ones, at most `maxBlobs`). */
  readonly refreshed: number;
  /** Live blobs the store no longer holds: pulling the images using them fails until they are pushed again. */
  readonly missing: readonly string[];
  readonly durationMs: number;
  /** Set when the pass failed (the store was unreachable); the next pass tries again. */
  readonly error?: unknown;
}

/**
 * Keeps live blobs (reachable from a tag) in a store that evicts on its own (the CAS): each pass asks the
 * store about them (FindMissingBlobs), which marks them used there. At most `maxBlobs` are asked about:
 * the most recently used first (pulled, pushed, named by a pushed manifest), then live blobs not used
 * since start-up. The recency list itself holds at most `maxBlobs` digests.
 */
export class BlobKeepAlive {
  readonly #ctx: RegistryContext;
  readonly #store: RefreshableBlobStore;
  readonly #maxBlobs: number;
  /** Digests in order of use, least recent first. */
  readonly #recent = new Map<string, true>();

  constructor(ctx: RegistryContext, store: RefreshableBlobStore, maxBlobs: number) {
    this.#ctx = ctx;
    this.#store = store;
    this.#maxBlobs = maxBlobs;
  }

  /** Marks a blob as just used. */
  touch(digest: string): void {
    this.#recent.delete(digest);
    this.#recent.set(digest, true);
    if (this.#recent.size > this.#maxBlobs) this.#recent.delete(this.#recent.keys().next().value!);
  }

  /** One pass: which blobs are live, then FindMissingBlobs on up to `maxBlobs` of them. */
  async refresh(): Promise<KeepAliveReport> {
    const started = performance.now();
    try {
      const live = await this.#ctx.lock.withShared(() => liveBlobs(this.#ctx));
      const chosen = this.#choose(live);
      const missing = (await this.#store.refresh(chosen)).map((d) => d.value);
      return this.#publish({
        live: live.size,
        refreshed: chosen.length,
        missing,
        durationMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      this.#publish({
        live: 0,
        refreshed: 0,
        missing: [],
        durationMs: Math.round(performance.now() - started),
        error,
      });
      throw error;
    }
  }

  #choose(live: Map<string, SizedBlob>): SizedBlob[] {
    const chosen: SizedBlob[] = [];
    const recent = [...this.#recent.keys()].reverse();
    for (const digest of recent) {
      if (chosen.length >= this.#maxBlobs) return chosen;
      const blob = live.get(digest);
      if (blob) chosen.push(blob);
    }
    for (const [digest, blob] of live) {
      if (chosen.length >= this.#maxBlobs) break;
      if (!this.#recent.has(digest)) chosen.push(blob);
    }
    return chosen;
  }

  #publish(report: KeepAliveReport): KeepAliveReport {
    if (events.hasSubscribers) events.publish(report);
    return report;
  }
}
