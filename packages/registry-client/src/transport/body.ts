import type { Readable } from 'node:stream';
import { RegistryError } from '../errors.js';

/** Discard a response body so its connection returns to the pool (never throws). */
export async function dump(body: Readable): Promise<void> {
  const b = body as Readable & { dump?: (opts?: { limit?: number }) => Promise<void> };
  try {
    if (typeof b.dump === 'function') await b.dump({ limit: 256 * 1024 });
    else body.resume();
  } catch {
    // The connection is discarded instead; nothing to report.
  }
}

/** Read at most `limit` bytes of a body as text (the rest is discarded). */
export async function readTextPrefix(body: Readable, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      if (size < limit) chunks.push(buf.subarray(0, limit - size));
      size += buf.length;
      if (size >= limit) break;
    }
  } catch {
    // A broken error body still leaves the status to report.
  } finally {
    if (!body.destroyed && size >= limit) body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Read a whole body into memory, failing with IMG_REGISTRY_INVALID_RESPONSE past `limit` bytes
 * (manifests and configs are small; blobs are never read this way).
 */
export async function readAll(body: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      body.destroy();
      throw new RegistryError(
        'IMG_REGISTRY_INVALID_RESPONSE',
        `${what}: larger than the ${limit}-byte limit`,
      );
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
