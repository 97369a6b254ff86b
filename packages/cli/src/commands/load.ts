import { stat } from 'node:fs/promises';
import {
  DEFAULT_CONTAINERD_ADDRESS,
  DEFAULT_CONTAINERD_NAMESPACE,
  type FetchMissingBlob,
  type LoadProgressEvent,
  type LoadResult,
  loadIntoContainerd,
  loadIntoDocker,
  loadIntoPodman,
  type PlatformSelection,
} from '@img/containerd-loader';
import { type ImageContent, readLayout } from '@img/oci-layout';
import { type BlobSource, parsePlatform } from '@img/oci-spec';
import type { RegistryClient } from '@img/registry-client';
import { MultiBar, type SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { collect } from '../util/flags.js';
import { addRegistryFlags, createRegistryClient, type RegistryFlags } from '../util/registry.js';
import { createWorkDir, removeWorkDir } from '../util/work-dir.js';
import { buildSpecContent } from './build.js';

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

export interface RunLoadOptions {
  /** Streams base layers absent locally from their registry (plugged in once registry-client is wired). */
  readonly fetchMissingBlob?: FetchMissingBlob;
}

interface LoadSource {
  readonly content: ImageContent;
  /** Where base layers absent locally come from, by digest. */
  readonly blobSources: ReadonlyMap<string, readonly BlobSource[]>;
}

async function isSpecFile(source: string): Promise<boolean> {
  if (!source.endsWith('.json')) return false;
  return (await stat(source).catch(() => undefined))?.isFile() === true;
}

/** An image from a layout (`oci:DIR[:REF]`, `oci-archive:FILE`) or built in-process from a spec file. */
async function openSource(source: string, workDir: string, io: Io): Promise<LoadSource> {
  if (await isSpecFile(source)) {
    const built = await buildSpecContent(source, workDir, io);
    const blobSources = new Map<string, readonly BlobSource[]>();
    for (const image of built.images)
      for (const l of image.layers) if (l.sources?.length) blobSources.set(l.digest, l.sources);
    return { content: built.content, blobSources };
  }
  const layout = await readLayout(source);
  return { content: layout, blobSources: layout.sources };
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

/** Load an image into containerd, Docker or Podman, writing only what the runtime lacks. */
export async function runLoad(
  source: string,
  flags: LoadFlags,
  io: Io,
  options: RunLoadOptions = {},
): Promise<LoadResult> {
  const daemon = parseDaemon(flags.daemon);
  if (!flags.tag?.length)
    throw new CliError('IMG_CLI_USAGE', '--tag NAME:TAG is required (repeat it for more names)');
  const platform = parsePlatformFlag(flags.platform);
  if (platform === 'all' && daemon === 'podman')
    throw new CliError('IMG_CLI_USAGE', '--platform all: podman holds one platform per image');
  const workDir = await createWorkDir('img-load-');
  const progress = io.interactive && !io.quiet ? new BlobProgress() : undefined;
  const started = performance.now();
  let client: RegistryClient | undefined;
  // Base layers the runtime lacks and we don't have locally come from their registry, verified.
  const fetchFromRegistry: FetchMissingBlob = async (descriptor, sources) => {
    client ??= createRegistryClient(flags);
    let lastError: unknown;
    for (const source of sources) {
      try {
        return await client.fetchBlob(source, descriptor);
      } catch (err) {
        lastError = err;
      }
    }
    throw (
      lastError ??
      new CliError(
        'IMG_CLI_INVALID_INPUT',
        `layer ${descriptor.digest}: not available locally and no source registry is known`,
      )
    );
  };
  try {
    const { content, blobSources } = await openSource(source, workDir, io);
    const common = {
      names: flags.tag,
      blobSources,
      fetchMissingBlob: options.fetchMissingBlob ?? fetchFromRegistry,
      ...(progress ? { onProgress: (e: LoadProgressEvent) => progress.update(e) } : {}),
    };
    let result: LoadResult;
    if (daemon === 'containerd') {
      result = await loadIntoContainerd(content, {
        ...common,
        address: flags.address ?? DEFAULT_CONTAINERD_ADDRESS,
        namespace: flags.namespace ?? DEFAULT_CONTAINERD_NAMESPACE,
        ...(flags.snapshotter ? { snapshotter: flags.snapshotter } : {}),
        ...(platform ? { platform } : {}),
      });
    } else if (daemon === 'docker') {
      result = await loadIntoDocker(content, {
        ...common,
        ...(flags.address ? { host: flags.address } : {}),
        ...(flags.containerdAddress ? { containerdAddress: flags.containerdAddress } : {}),
        ...(platform ? { platform } : {}),
      });
    } else {
      result = await loadIntoPodman(content, {
        ...common,
        ...(platform && platform !== 'all' ? { platform } : {}),
      });
    }
    progress?.stop();
    io.out(summaryLine(result, (performance.now() - started) / 1000));
    return result;
  } finally {
    progress?.stop();
    await client?.close();
    await removeWorkDir(workDir);
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** `loaded NAME[, NAME] (sha256:...) into containerd: 3 blobs present, 2 written, 1.20 MiB written in 0.35 s` */
export function summaryLine(r: LoadResult, seconds: number): string {
  const what = r.skipped ? ' (image already present: tagged only)' : '';
  return (
    `loaded ${r.names.join(', ')} (${r.root.digest}) into ${r.runtime}${what}: ` +
    `${r.blobsPresent} blobs present, ${r.blobsWritten} written, ${formatBytes(r.bytesWritten)} written in ${seconds.toFixed(2)} s`
  );
}

/** One progress bar per blob being written (drawn on a terminal only). */
class BlobProgress {
  readonly #bars = new MultiBar({
    format: ' {kind} {digest} [{bar}] {percentage}% {done}',
    clearOnComplete: false,
    hideCursor: true,
    stream: process.stderr,
  });
  readonly #active = new Map<string, SingleBar>();
  #stopped = false;

  update(e: LoadProgressEvent): void {
    if (this.#stopped || e.type === 'plan') return;
    const digest = e.descriptor.digest.slice(7, 19);
    if (e.type === 'blob-start') {
      this.#active.set(
        e.descriptor.digest,
        this.#bars.create(e.descriptor.size, 0, { kind: e.kind.padEnd(8), digest, done: '' }),
      );
    } else if (e.type === 'blob-progress') {
      this.#active.get(e.descriptor.digest)?.update(e.offset);
    } else {
      const bar = this.#active.get(e.descriptor.digest);
      if (bar) bar.update(e.descriptor.size, { done: e.status === 'present' ? 'present' : 'written' });
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#bars.stop();
  }
}

export function registerLoad(program: Command, io: Io): void {
  const cmd = program
    .command('load')
    .description('load an image into containerd, Docker or Podman, sending only the blobs the runtime lacks')
    .argument(
      '<source>',
      'oci:DIR[:REF] | oci-archive:FILE[:REF] | an image spec JSON file (built in-process)',
    )
    .option('--daemon <kind>', 'containerd | docker | podman', 'docker')
    .option(
      '--address <socket>',
      `containerd socket (default ${DEFAULT_CONTAINERD_ADDRESS}) or docker host (default $DOCKER_HOST or unix:///var/run/docker.sock)`,
    )
    .option(
      '--namespace <ns>',
      `containerd namespace: moby (Docker), k8s.io (Kubernetes), default (ctr)`,
      DEFAULT_CONTAINERD_NAMESPACE,
    )
    .option(
      '--snapshotter <name>',
      'containerd: the snapshotter whose already-unpacked layers the image keeps (default overlayfs)',
    )
    .option(
      '--platform <os/arch[/variant]|all>',
      "for an index: the platform to load (default: this host's), or all",
    )
    .option(
      '--containerd-address <socket>',
      "docker with the containerd image store: its containerd socket, when docker's /info does not report it",
    )
    .option('-t, --tag <name:tag>', 'image name to create or update (repeatable)', collect, [])
    .addHelpText(
      'after',
      `
Names are qualified as Docker does (app:dev -> docker.io/library/app:dev).
Podman: storage comes from podman's own configuration (CONTAINERS_STORAGE_CONF, --root is not passed).
Layers of a shallow base (img pull) that the runtime lacks are streamed from their registry.`,
    );
  addRegistryFlags(cmd).action(async (source: string, opts: LoadFlags) => {
    await runLoad(source, opts, io);
  });
}
