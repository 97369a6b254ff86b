import { spawn } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { dockerArchiveImage } from '@img/oci-layout';
import {
  type AbortOptions,
  type BlobLocation,
  digestHex,
  hostPlatform,
  type ImageGraph,
  ImgError,
  type Platform,
  type ProgressOptions,
  progressReporter,
} from '@img/oci-spec';
import { dockerArchiveStreamOf } from '../archive-stream.js';
import { LoadError } from '../errors.js';
import { normalizeImageName } from '../image-name.js';
import type { FetchMissingBlob } from '../load-containerd.js';
import { type BlobOutcome, doneEvent, type LoadResult, summarize } from '../progress.js';

export const DEFAULT_PODMAN = 'podman';

export interface PodmanLoadOptions extends AbortOptions, ProgressOptions {
  readonly names: readonly string[];
  /** podman executable. Default DEFAULT_PODMAN (from PATH). */
  readonly podman?: string;
  /** Global flags before the subcommand, e.g. `['--root', dir, '--runroot', dir2]`. */
  readonly globalArgs?: readonly string[];
  readonly platform?: Platform;
  readonly env?: NodeJS.ProcessEnv;
  readonly fetchMissingBlob?: FetchMissingBlob;
  /** Where absent blobs come from when the graph names no location of their own. */
  readonly locations?: readonly BlobLocation[];
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function podman(options: PodmanLoadOptions, args: string[], input?: NodeJS.ReadableStream): Promise<Exit> {
  const exe = options.podman ?? DEFAULT_PODMAN;
  return new Promise((resolve, reject) => {
    const { signal } = options;
    const child = spawn(exe, [...(options.globalArgs ?? []), ...args], {
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      ...(signal ? { signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    let feed: Promise<unknown> = Promise.resolve();
    if (input) feed = pipeline(input, child.stdin!).catch((e) => e);
    child.on('error', (err) => {
      // Aborted: the child is killed; what it had half loaded is its own to drop.
      if (signal?.aborted) return reject(signal.reason);
      reject(new LoadError('IMG_LOAD_CONNECT', `cannot run ${exe}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => {
      void feed.then(() => (signal?.aborted ? reject(signal.reason) : resolve({ code, stdout, stderr })));
    });
  });
}

/**
 * Load into Podman: `podman load` fed the docker-save archive as it is produced, unless Podman
 * already has the image ID (config digest), in which case only `podman tag` runs.
 */
export async function loadIntoPodman(graph: ImageGraph, options: PodmanLoadOptions): Promise<LoadResult> {
  if (options.names.length === 0)
    throw new LoadError('IMG_LOAD_INVALID_NAME', 'no image name given (e.g. app:dev)');
  const names = options.names.map((n) => normalizeImageName(n));
  const platform = options.platform ?? hostPlatform();
  const image = dockerArchiveImage(graph, platform);
  const id = digestHex(image.manifest.config.digest);
  const outcomes = (status: 'present' | 'written'): BlobOutcome[] => [
    ...image.manifest.layers.map((d) => ({
      descriptor: d,
      kind: 'layer' as const,
      status,
      bytesSent: status === 'written' ? d.size : 0,
    })),
    {
      descriptor: image.manifest.config,
      kind: 'config',
      status,
      bytesSent: status === 'written' ? image.manifest.config.size : 0,
    },
  ];
  const progress = progressReporter(options.onProgress);
  const finish = (status: 'present' | 'written', extra: Parameters<typeof summarize>[4]): LoadResult => {
    const blobs = outcomes(status);
    for (const b of blobs) progress(doneEvent(b));
    return summarize('podman', image.descriptor, names, blobs, extra);
  };
  const exists = await podman(options, ['image', 'exists', id]);
  if (exists.code === 0) {
    const tag = await podman(options, ['tag', id, ...names]);
    if (tag.code !== 0) throw new LoadError('IMG_LOAD_DAEMON', `podman tag: ${tag.stderr.trim()}`);
    return finish('present', { skipped: true });
  }
  if (exists.code !== 1)
    throw new LoadError(
      'IMG_LOAD_DAEMON',
      `podman image exists: ${exists.stderr.trim() || `exit ${exists.code}`}`,
    );
  const written = outcomes('written');
  progress({
    type: 'plan',
    operation: 'load',
    blobs: written.length,
    present: 0,
    bytesToSend: written.reduce((n, b) => n + b.descriptor.size, 0),
  });
  const archive = dockerArchiveStreamOf(image, graph, { ...options, repoTags: names, platform });
  const load = await podman(options, ['load'], archive.stream);
  const producerError = await archive.done.then(
    () => undefined,
    (e: unknown) => e,
  );
  // Our own error (a missing or corrupt blob) explains a failure best; a broken pipe does not.
  if (producerError instanceof ImgError) throw producerError;
  if (load.code !== 0)
    throw new LoadError('IMG_LOAD_DAEMON', `podman load: ${load.stderr.trim() || `exit ${load.code}`}`);
  if (producerError) throw producerError;
  return finish('written', { archiveBytes: archive.bytes() });
}
