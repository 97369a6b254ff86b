import { dockerArchiveImage } from '@img/oci-layout';
import {
  type AbortOptions,
  type BlobLocation,
  type Descriptor,
  hostPlatform,
  type ImageEntry,
  type ImageGraph,
  ImgError,
  type Platform,
  type ProgressOptions,
  progressReporter,
} from '@img/oci-spec';
import { dockerArchiveStreamOf } from '../archive-stream.js';
import { LoadError } from '../errors.js';
import { normalizeImageName, parseImageName } from '../image-name.js';
import { type FetchMissingBlob, loadIntoContainerd } from '../load-containerd.js';
import type { PlatformSelection } from '../plan.js';
import { type BlobOutcome, doneEvent, type LoadResult, summarize } from '../progress.js';
import {
  type DockerEndpoint,
  dockerEndpoint,
  dockerJson,
  dockerRequest,
  readBody,
  readJsonMessages,
} from './engine-api.js';

/** The containerd namespace of Docker's containerd image store. */
export const DOCKER_CONTAINERD_NAMESPACE = 'moby';

export interface DockerLoadOptions extends AbortOptions, ProgressOptions {
  readonly names: readonly string[];
  /** DOCKER_HOST-style address. Default: $DOCKER_HOST, else DEFAULT_DOCKER_HOST. */
  readonly host?: string;
  /** Default: the host's. `'all'` only works with the containerd image store. */
  readonly platform?: PlatformSelection;
  /** The containerd socket of a Docker that uses the containerd store, when /info does not tell (Docker < 27). */
  readonly containerdAddress?: string;
  readonly fetchMissingBlob?: FetchMissingBlob;
  /** Where absent blobs come from when the graph names no location of their own. */
  readonly locations?: readonly BlobLocation[];
  readonly protoDir?: string;
}

interface DockerInfo {
  DriverStatus?: [string, string][];
  Containerd?: { Address?: string; Namespaces?: { Containers?: string } };
  ServerVersion?: string;
}

/** How Docker stores images: through containerd (Docker 24+ opt-in, default in 29) or its classic graph drivers. */
export async function dockerImageStore(
  endpoint: DockerEndpoint,
): Promise<
  | { kind: 'containerd'; address?: string; namespace: string; version?: string }
  | { kind: 'classic'; version?: string }
> {
  const info = await dockerJson<DockerInfo>(endpoint, 'GET', '/info');
  if (!info.json)
    throw new LoadError(
      'IMG_LOAD_DAEMON',
      `docker at ${endpoint.display}: GET /info: ${info.status} ${info.message ?? ''}`,
    );
  const version = info.json.ServerVersion;
  const driverType = info.json.DriverStatus?.find(([k]) => k === 'driver-type')?.[1];
  if (driverType !== 'io.containerd.snapshotter.v1')
    return { kind: 'classic', ...(version ? { version } : {}) };
  const c = info.json.Containerd;
  return {
    kind: 'containerd',
    ...(c?.Address ? { address: c.Address } : {}),
    namespace: c?.Namespaces?.Containers || DOCKER_CONTAINERD_NAMESPACE,
    ...(version ? { version } : {}),
  };
}

/**
 * Load into Docker. With the containerd image store, blobs go straight into Docker's containerd
 * (only the missing ones). With the classic store, a docker-save archive is streamed to
 * `POST /images/load` as it is produced, unless Docker already has the image ID (config digest),
 * in which case only the tags are set.
 */
export async function loadIntoDocker(graph: ImageGraph, options: DockerLoadOptions): Promise<LoadResult> {
  if (options.names.length === 0)
    throw new LoadError('IMG_LOAD_INVALID_NAME', 'no image name given (e.g. app:dev)');
  const endpoint = dockerEndpoint(options.host);
  const store = await dockerImageStore(endpoint);
  if (store.kind === 'containerd') {
    const address = store.address ?? options.containerdAddress;
    if (!address) {
      throw new LoadError(
        'IMG_LOAD_UNSUPPORTED',
        `docker at ${endpoint.display} uses the containerd image store but does not report its containerd socket (Docker ${store.version ?? '?'}); pass the containerd address`,
      );
    }
    const r = await loadIntoContainerd(graph, { ...options, address, namespace: store.namespace });
    return { ...r, runtime: 'docker' };
  }
  if (options.platform === 'all') {
    throw new LoadError(
      'IMG_LOAD_UNSUPPORTED',
      'docker with the classic image store holds one platform per image; choose one with --platform',
    );
  }
  const names = options.names.map((n) => normalizeImageName(n));
  const platform: Platform = options.platform ?? hostPlatform();
  const image = dockerArchiveImage(graph, platform);
  const progress = progressReporter(options.onProgress);
  const { signal } = options;
  const id = image.manifest.config.digest;
  const layers = image.manifest.layers;
  const outcomes = (has: (digest: string) => boolean): BlobOutcome[] => [
    ...layers.map((d) => outcome(d, 'layer', has(d.digest))),
    outcome(image.manifest.config, 'config', has(id)),
  ];

  const existing = await dockerJson(endpoint, 'GET', `/images/${encodeURIComponent(id)}/json`);
  if (existing.status === 200) {
    for (const name of names) await tagImage(endpoint, id, name);
    const blobs = outcomes(() => true);
    for (const b of blobs) progress(doneEvent(b));
    return summarize('docker', image.descriptor, names, blobs, { skipped: true });
  }
  const omitLayers = await layersDockerHas(endpoint, names, image);
  const archive = dockerArchiveStreamOf(image, graph, {
    ...options,
    repoTags: names,
    platform,
    omitLayers,
  });
  const blobs = outcomes((d) => omitLayers.has(d));
  progress({
    type: 'plan',
    operation: 'load',
    blobs: blobs.length,
    present: omitLayers.size,
    bytesToSend: blobs.reduce((n, b) => n + (b.status === 'written' ? b.descriptor.size : 0), 0),
  });
  const res = await dockerRequest(endpoint, 'POST', '/images/load?quiet=1', {
    ...(signal ? { signal } : {}),
    body: archive.stream,
    headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' },
  });
  const produced = archive.done.then(
    () => undefined,
    (e: unknown) => e,
  );
  let loadError: unknown;
  try {
    if (res.status !== 200) {
      throw new LoadError(
        'IMG_LOAD_DAEMON',
        `docker load: HTTP ${res.status}: ${(await readBody(res.body)).trim()}`,
      );
    }
    await readJsonMessages(res.body, 'docker load');
  } catch (err) {
    loadError = err;
  }
  const producerError = await produced;
  if (signal?.aborted) throw signal.reason;
  // Our own error (a missing or corrupt blob) explains a failure best; a broken pipe does not.
  if (producerError instanceof ImgError) throw producerError;
  if (loadError) throw loadError;
  if (producerError) throw producerError;
  for (const b of blobs) progress(doneEvent(b));
  return summarize('docker', image.descriptor, names, blobs, { archiveBytes: archive.bytes() });
}

function outcome(descriptor: Descriptor, kind: 'layer' | 'config', present: boolean): BlobOutcome {
  return {
    descriptor,
    kind,
    status: present ? 'present' : 'written',
    bytesSent: present ? 0 : descriptor.size,
  };
}

/**
 * Layers Docker already holds as the same chain (the same diff_ids from the bottom up) under one of
 * the names being loaded, typically the previous build of this image. `docker load` does not open
 * the file of a layer whose chain exists, so those layers need not be sent. A digest that also
 * appears above the shared prefix is sent anyway.
 */
async function layersDockerHas(
  endpoint: DockerEndpoint,
  names: readonly string[],
  image: ImageEntry,
): Promise<Set<string>> {
  const ours = (image.config.rootfs?.diff_ids ?? []).slice(0, image.manifest.layers.length);
  let shared = 0;
  for (const name of names) {
    const r = await dockerJson<{ RootFS?: { Layers?: string[] } }>(
      endpoint,
      'GET',
      `/images/${encodeURIComponent(name)}/json`,
    );
    const theirs = r.json?.RootFS?.Layers ?? [];
    let k = 0;
    while (k < ours.length && k < theirs.length && ours[k] === theirs[k]) k++;
    shared = Math.max(shared, k);
  }
  const layers = image.manifest.layers;
  const above = new Set(layers.slice(shared).map((l) => l.digest));
  return new Set(
    layers
      .slice(0, shared)
      .map((l) => l.digest)
      .filter((d) => !above.has(d)),
  );
}

async function tagImage(endpoint: DockerEndpoint, id: string, name: string): Promise<void> {
  const ref = parseImageName(name);
  const query = new URLSearchParams({ repo: ref.repository, ...(ref.tag ? { tag: ref.tag } : {}) });
  const r = await dockerJson(endpoint, 'POST', `/images/${encodeURIComponent(id)}/tag?${query}`);
  if (r.status !== 201 && r.status !== 200)
    throw new LoadError('IMG_LOAD_DAEMON', `docker tag ${name}: HTTP ${r.status}: ${r.message ?? ''}`);
}
