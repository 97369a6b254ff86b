import {
  DEFAULT_CONTAINERD_ADDRESS,
  DEFAULT_CONTAINERD_NAMESPACE,
  type FetchMissingBlob,
  type LoadResult,
  loadIntoContainerd,
  loadIntoDocker,
  loadIntoPodman,
  type PlatformSelection,
} from '@img/containerd-loader';
import { type ImageGraph, type ProgressEvent, parsePlatform } from '@img/oci-spec';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { BlobProgress, summaryLine } from '../util/load-progress.js';
import type { RegistryFlags } from '../util/registry.js';
import { registryFetcher } from './remote-blobs.js';

export type Daemon = 'containerd' | 'docker' | 'podman';

export interface LoadFlags extends RegistryFlags {
  daemon: string;
  tag: string[];
  address?: string;
  namespace?: string;
  platform?: string;
  containerdAddress?: string;
  snapshotter?: string;
}

/** Where an image is loaded, checked before any work. */
export interface LoadTarget {
  readonly daemon: Daemon;
  readonly names: readonly string[];
  readonly platform?: PlatformSelection;
  /** containerd socket or docker host. */
  readonly address?: string;
  readonly namespace?: string;
  readonly snapshotter?: string;
  readonly containerdAddress?: string;
}

export interface LoadContentOptions {
  /** Streams base layers absent locally (default: from their registry, verified). */
  readonly fetchMissingBlob?: FetchMissingBlob;
}

function parseDaemon(value: string): Daemon {
  if (value === 'containerd' || value === 'docker' || value === 'podman') return value;
  throw new CliError(
    'IMG_CLI_USAGE',
    `--daemon ${JSON.stringify(value)}: expected containerd, docker or podman`,
  );
}

function parsePlatformFlag(value: string | undefined): PlatformSelection | undefined {
  if (value === undefined) return undefined;
  return value === 'all' ? 'all' : parsePlatform(value, '--platform');
}

/** The load target `img load`'s flags name; usage errors before anything is read or built. */
export function loadTargetFromFlags(flags: LoadFlags): LoadTarget {
  const daemon = parseDaemon(flags.daemon);
  if (!flags.tag?.length)
    throw new CliError('IMG_CLI_USAGE', '--tag NAME:TAG is required (repeat it for more names)');
  const platform = parsePlatformFlag(flags.platform);
  if (platform === 'all' && daemon === 'podman')
    throw new CliError('IMG_CLI_USAGE', '--platform all: podman holds one platform per image');
  return {
    daemon,
    names: flags.tag,
    ...(platform ? { platform } : {}),
    ...(flags.address ? { address: flags.address } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags.snapshotter ? { snapshotter: flags.snapshotter } : {}),
    ...(flags.containerdAddress ? { containerdAddress: flags.containerdAddress } : {}),
  };
}

/**
 * Load an image into containerd, Docker or Podman, writing only what the runtime lacks; prints the
 * summary line. Base layers the runtime lacks and we don't have locally come from their registry.
 */
export async function loadContent(
  graph: ImageGraph,
  target: LoadTarget,
  flags: RegistryFlags,
  io: Io,
  options: LoadContentOptions = {},
): Promise<LoadResult> {
  const progress = io.interactive && !io.quiet ? new BlobProgress() : undefined;
  const started = performance.now();
  const remote = registryFetcher(flags);
  const { platform } = target;
  try {
    const common = {
      names: [...target.names],
      fetchMissingBlob: options.fetchMissingBlob ?? remote.fetch,
      ...(progress ? { onProgress: (e: ProgressEvent) => progress.update(e) } : {}),
    };
    let result: LoadResult;
    if (target.daemon === 'containerd') {
      result = await loadIntoContainerd(graph, {
        ...common,
        address: target.address ?? DEFAULT_CONTAINERD_ADDRESS,
        namespace: target.namespace ?? DEFAULT_CONTAINERD_NAMESPACE,
        ...(target.snapshotter ? { snapshotter: target.snapshotter } : {}),
        ...(platform ? { platform } : {}),
      });
    } else if (target.daemon === 'docker') {
      result = await loadIntoDocker(graph, {
        ...common,
        ...(target.address ? { host: target.address } : {}),
        ...(target.containerdAddress ? { containerdAddress: target.containerdAddress } : {}),
        ...(platform ? { platform } : {}),
      });
    } else {
      result = await loadIntoPodman(graph, {
        ...common,
        ...(platform && platform !== 'all' ? { platform } : {}),
      });
    }
    progress?.stop();
    io.out(summaryLine(result, (performance.now() - started) / 1000));
    return result;
  } finally {
    progress?.stop();
    await remote.close();
  }
}
