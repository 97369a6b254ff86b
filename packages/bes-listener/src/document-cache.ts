import type { Digest } from '@img/oci-spec';
import type { RemoteCache } from '@img/remote-cache';

/**
 * Small blobs read from the CAS (push requests, manifests, indexes, configs), kept by digest up to a
 * byte budget, least recently used dropped first. Bytes are verified by the cache's read, so a digest
 * names the same bytes whoever asks; a second build of the same image reads nothing again.
 */
export class DocumentCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<Digest, Uint8Array>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  async read(
    cache: RemoteCache,
    blob: { readonly digest: Digest; readonly size: number },
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const hit = this.#entries.get(blob.digest);
    if (hit !== undefined && hit.length === blob.size) {
      this.#entries.delete(blob.digest);
      this.#entries.set(blob.digest, hit);
      return hit;
    }
    const bytes = await cache.readBlob(blob, { ...(signal ? { signal } : {}), maxBytes: this.#maxBytes });
    this.#keep(blob.digest, bytes);
    return bytes;
  }

  #keep(digest: Digest, bytes: Uint8Array): void {
    if (bytes.length > this.#maxBytes) return;
    this.#entries.set(digest, bytes);
    this.#bytes += bytes.length;
    for (const [key, value] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(key);
      this.#bytes -= value.length;
    }
  }
}
