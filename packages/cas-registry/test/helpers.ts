import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { connectRemoteCache, type RemoteCache } from '@img/remote-cache';
import { ciRequires, startBuildGrid, type TempDir, type TestBuildGrid, tempDir } from '@img/test-utils';
import { afterAll } from 'vitest';
import {
  type BlobStore,
  CasBlobStore,
  type RegistryServer,
  type RegistryServerOptions,
  startRegistryServer,
} from '../src/index.js';

/** Where a test server keeps blobs: files under its storage, or a BuildGrid's CAS. */
export type StoreKind = 'file' | 'cas';

export interface TestServerOptions extends Omit<RegistryServerOptions, 'storage'> {
  /** Default 'file'. With 'cas', a BuildGrid is started for the server (or `buildGrid` used). */
  readonly store?: StoreKind;
  /** The BuildGrid of a 'cas' server (default: one started for it, stopped with it). */
  readonly buildGrid?: TestBuildGrid;
  /** The remote cache instance of a 'cas' server. Default ''. */
  readonly instanceName?: string;
}

export interface TestServer {
  readonly server: RegistryServer;
  readonly storage: TempDir;
  /** `http://host:port` */
  readonly base: string;
  /** The BuildGrid and the client the CAS store uses ('cas' servers). */
  readonly buildGrid?: TestBuildGrid;
  readonly cache?: RemoteCache;
  /** Stops the server and starts a new one on the same storage (and port). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Retries fast, so a test of an unreachable cache does not wait out Bazel's backoff. */
export const FAST_RETRY = { attempts: 3, initialDelayMs: 10, maxDelayMs: 50 };

/** A registry on a free loopback port with its own storage, stopped after the file's tests. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { store = 'file', buildGrid, instanceName = '', ...serverOptions } = options;
  const storage = await tempDir('cas-registry-');
  let bg: TestBuildGrid | undefined;
  let cache: RemoteCache | undefined;
  if (store === 'cas') {
    bg = buildGrid ?? (await startBuildGrid());
    cache = connectRemoteCache(bg.endpoint, { instanceName, retry: FAST_RETRY });
  }
  const blobStore = (): BlobStore | undefined =>
    serverOptions.blobStore ??
    (cache ? new CasBlobStore(cache, { root: join(storage.path, 'cas') }) : undefined);
  const start = (port?: number) => {
    const b = blobStore();
    return startRegistryServer({
      ...serverOptions,
      storage: storage.path,
      ...(b ? { blobStore: b } : {}),
      ...(port !== undefined ? { port } : {}),
    });
  };
  let server = await start();
  const t: TestServer = {
    get server() {
      return server;
    },
    storage,
    get base() {
      return `http://${server.address}`;
    },
    ...(bg ? { buildGrid: bg } : {}),
    ...(cache ? { cache } : {}),
    async restart() {
      const port = server.port;
      await server.close();
      server = await start(port);
    },
    async stop() {
      await server.close();
      cache?.close();
      if (bg && !buildGrid) await bg.stop();
      await storage.remove();
    },
  };
  afterAll(() => t.stop());
  return t;
}

/**
 * A server per store kind: files always, BuildGrid's CAS when BuildGrid is installed (under CI=true a
 * missing BuildGrid fails instead). Each entry: the kind and its server, undefined when skipped.
 */
export async function startTestServers(
  options: Omit<TestServerOptions, 'store'> = {},
): Promise<Array<readonly [StoreKind, TestServer | undefined]>> {
  const cas = ciRequires('bgd');
  return [
    ['file', await startTestServer(options)],
    ['cas', cas.skip ? undefined : await startTestServer({ ...options, store: 'cas' })],
  ];
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function sha512(data: Uint8Array | string): string {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

export interface Pushed {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
}

/** Pushes a blob with POST + PUT; throws unless 201. */
export async function pushBlob(
  base: string,
  repo: string,
  data: Uint8Array | string,
  mediaType = 'application/octet-stream',
): Promise<Pushed> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const digest = sha256(bytes);
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`POST uploads: ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${await put.text()}`);
  return { digest, size: bytes.length, mediaType };
}

export interface ImageFixture {
  readonly manifest: Buffer;
  readonly digest: string;
  readonly config: Pushed;
  readonly layers: Pushed[];
}

/** Pushes a config and layers, and returns (without pushing) a manifest referencing them. */
export async function pushImageBlobs(
  base: string,
  repo: string,
  layers: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<ImageFixture> {
  const pushedLayers = [];
  for (const l of layers)
    pushedLayers.push(await pushBlob(base, repo, l, 'application/vnd.oci.image.layer.v1.tar'));
  const configJson = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: pushedLayers.map((l) => l.digest) },
  });
  const config = await pushBlob(base, repo, configJson, 'application/vnd.oci.image.config.v1+json');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: pushedLayers,
      ...extra,
    }),
  );
  return { manifest, digest: sha256(manifest), config, layers: pushedLayers };
}

export function putManifest(
  base: string,
  repo: string,
  reference: string,
  body: Uint8Array,
  contentType = 'application/vnd.oci.image.manifest.v1+json',
): Promise<Response> {
  return fetch(`${base}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': contentType },
  });
}

/** The spec error code of a response body (`errors[0].code`). */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: Array<{ code: string }> };
  return body.errors?.[0]?.code;
}
