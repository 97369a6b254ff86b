import { channel } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type BlobStore, canRefresh } from './blob-store.js';
import type { RegistryContext } from './context.js';
import { CasRegistryError } from './errors.js';
import { FileBlobStore } from './fs-blob-store.js';
import { GarbageCollector, type GarbageReport } from './gc.js';
import { HttpError } from './http/http-error.js';
import { API_VERSION_HEADER, sendError } from './http/respond.js';
import { route } from './http/router.js';
import { BlobKeepAlive, type KeepAliveReport } from './keepalive.js';
import { SharedExclusiveLock } from './lock.js';
import { type RegistryServerOptions, resolveOptions } from './options.js';
import { RepositoryStore } from './repository-store.js';
import { UploadManager } from './uploads.js';

/** One event per finished request (method, path, status, ms, error) on `img:cas-registry:request`. */
export const REQUEST_CHANNEL = 'img:cas-registry:request';
const requests = channel(REQUEST_CHANNEL);

export interface RequestEvent {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  /** Set for 5xx answers: what went wrong inside the server. */
  readonly error?: unknown;
}

export interface RegistryServer {
  /** `host:port` as clients write it before a repository name (`127.0.0.1:5000/team/app:1`). */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Runs garbage collection now (IMG_CASREG_INVALID_OPTION without `ttlMs`). */
  collectGarbage(now?: number): Promise<GarbageReport>;
  /** Runs a keepalive pass now (IMG_CASREG_INVALID_OPTION without `keepAlive`). */
  keepBlobsAlive(): Promise<KeepAliveReport>;
  /** Stops accepting connections, lets requests in flight finish (up to `graceMs`, default 10 s), closes. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Maps what the stores raise to the spec's answers; anything else is a 500. */
function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof CasRegistryError) {
    switch (err.code) {
      case 'IMG_CASREG_DIGEST_MISMATCH':
        return new HttpError(400, 'DIGEST_INVALID', err.message);
      case 'IMG_CASREG_SIZE_MISMATCH':
        return new HttpError(400, 'SIZE_INVALID', err.message);
      case 'IMG_CASREG_TOO_LARGE':
        return new HttpError(413, 'SIZE_INVALID', err.message);
      case 'IMG_CASREG_BLOB_NOT_FOUND':
        return new HttpError(404, 'BLOB_UNKNOWN', err.message);
      case 'IMG_CASREG_UNAVAILABLE':
        return new HttpError(503, 'UNAVAILABLE', err.message, { headers: { 'Retry-After': '5' } });
      default:
        break;
    }
  }
  return new HttpError(500, 'UNSUPPORTED', `internal error: ${(err as Error)?.message ?? String(err)}`);
}

async function handle(ctx: RegistryContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  let failure: unknown;
  res.once('close', () => {
    if (!requests.hasSubscribers) return;
    const event: RequestEvent = {
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0]!,
      status: res.statusCode,
      durationMs: Math.round(performance.now() - started),
      ...(failure !== undefined ? { error: failure } : {}),
    };
    requests.publish(event);
  });
  for (const [k, v] of Object.entries(API_VERSION_HEADER)) res.setHeader(k, v);
  try {
    await route(ctx, req, res);
  } catch (err) {
    const answer = toHttpError(err);
    if (answer.status >= 500) failure = err;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A body we did not read: close the connection rather than read an unbounded rest.
    if (!req.complete) res.setHeader('Connection', 'close');
    if (answer.status === 405) res.setHeader('Allow', 'GET, HEAD, PUT, POST, PATCH, DELETE');
    sendError(req, res, answer);
  }
}

/**
 * Starts an OCI distribution-spec 1.1 registry: pull, push (monolithic, single POST, chunked), mounts,
 * tag listing, catalog, referrers, deletes. Blobs go to `options.blobStore` (default: files under
 * `<storage>/blobs`); manifests, tags and upload sessions live under `options.storage`.
 */
export async function startRegistryServer(options: RegistryServerOptions): Promise<RegistryServer> {
  const o = resolveOptions(options);
  const { signal } = options;
  signal?.throwIfAborted();
  const blobs: BlobStore = o.blobStore ?? new FileBlobStore(join(o.storage, 'blobs'));
  if (o.keepAlive && !canRefresh(blobs)) {
    throw new CasRegistryError(
      'IMG_CASREG_INVALID_OPTION',
      'keepAlive: the blob store cannot refresh blobs (a CasBlobStore can)',
    );
  }
  // Stores that need set-up (directories, stale temp files) have a prepare(): probed, not required.
  if ('prepare' in blobs && typeof blobs.prepare === 'function') await blobs.prepare();
  const repositories = new RepositoryStore(o.storage);
  await repositories.prepare();
  const uploads = new UploadManager(join(o.storage, 'uploads'), {
    maxUploads: o.maxUploads,
    maxBlobBytes: o.maxBlobBytes,
    expiryMs: o.uploadExpiryMs,
  });
  await uploads.prepare();
  const ctx: RegistryContext = {
    blobs,
    repositories,
    uploads,
    limits: {
      maxManifestBytes: o.maxManifestBytes,
      maxBlobBytes: o.maxBlobBytes,
      maxPageSize: o.maxPageSize,
      maxTagsPerPush: o.maxTagsPerPush,
    },
    lock: new SharedExclusiveLock(),
  };
  const keepAlive =
    o.keepAlive && canRefresh(blobs) ? new BlobKeepAlive(ctx, blobs, o.keepAlive.maxBlobs) : undefined;
  if (keepAlive) ctx.keepAlive = keepAlive;
  const gc =
    o.ttlMs !== undefined ? new GarbageCollector(ctx, o.ttlMs, join(o.storage, 'gc-state.json')) : undefined;

  const server = createServer({ headersTimeout: o.headersTimeoutMs, requestTimeout: 0 }, (req, res) => {
    void handle(ctx, req, res);
  });
  server.maxConnections = o.maxConnections;
  server.setTimeout(o.idleTimeoutMs, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new CasRegistryError('IMG_CASREG_LISTEN', `${o.host}:${o.port}: ${err.message}`, { cause: err }),
      ),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => Promise<unknown>) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch(() => {})
        .finally(() => {
          running = false;
        });
    }, ms);
    timer.unref();
    timers.push(timer);
  };
  if (gc && o.gcIntervalMs > 0) every(o.gcIntervalMs, () => gc.collect());
  if (keepAlive && o.keepAlive) every(o.keepAlive.intervalMs, () => keepAlive.refresh());
  every(Math.min(o.uploadExpiryMs / 2, 600_000), () => uploads.purgeExpired());

  const running: RegistryServer = {
    address: `${host}:${port}`,
    host: o.host,
    port,
    collectGarbage(now?: number) {
      if (!gc) throw new CasRegistryError('IMG_CASREG_INVALID_OPTION', 'garbage collection needs ttlMs');
      return gc.collect(now);
    },
    keepBlobsAlive() {
      if (!keepAlive) throw new CasRegistryError('IMG_CASREG_INVALID_OPTION', 'keepalive needs keepAlive');
      return keepAlive.refresh();
    },
    async close({ graceMs = 10_000 } = {}) {
      for (const t of timers) clearInterval(t);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      force.unref();
      await closed;
      clearTimeout(force);
    },
  };
  if (signal) {
    const stop = () => void running.close();
    if (signal.aborted) {
      await running.close();
      throw signal.reason;
    }
    signal.addEventListener('abort', stop, { once: true });
    server.once('close', () => signal.removeEventListener('abort', stop));
  }
  return running;
}
