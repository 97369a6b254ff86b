import { createHash } from 'node:crypto';
import { type TempDir, tempDir } from '@img/test-utils';
import { afterAll } from 'vitest';
import { type RegistryServer, type RegistryServerOptions, startRegistryServer } from '../src/index.js';

export interface TestServer {
  readonly server: RegistryServer;
  readonly storage: TempDir;
  /** `http://host:port` */
  readonly base: string;
  /** Stops the server and starts a new one on the same storage (and port). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A registry on a free loopback port with its own storage, stopped after the file's tests. */
export async function startTestServer(
  options: Omit<RegistryServerOptions, 'storage'> = {},
): Promise<TestServer> {
  const storage = await tempDir('cas-registry-');
  let server = await startRegistryServer({ ...options, storage: storage.path });
  const t: TestServer = {
    get server() {
      return server;
    },
    storage,
    get base() {
      return `http://${server.address}`;
    },
    async restart() {
      const port = server.port;
      await server.close();
      server = await startRegistryServer({ ...options, storage: storage.path, port });
    },
    async stop() {
      await server.close();
      await storage.remove();
    },
  };
  afterAll(() => t.stop());
  return t;
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
