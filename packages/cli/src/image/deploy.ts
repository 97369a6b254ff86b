import { isAbsolute, join } from 'node:path';
import { fileBlobSource, readLayout } from '@img/oci-layout';
import {
  type BlobLocation,
  type BlobSource,
  type Descriptor,
  type Digest,
  type ImageGraph,
  reachableDescriptors,
} from '@img/oci-spec';
import {
  checkNoTemplates,
  type DeployBlobSource,
  type DeployRequest,
  type DeployStrategy,
  type LoadRequest,
  type PushRequest,
  requestName,
  requestTags,
  resolveRequestPath,
} from '../deploy/request.js';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { isLoopbackRegistry, type RegistryFlags } from '../util/registry.js';
import { type LoadFlags, loadContent, loadTargetFromFlags } from './load-content.js';
import { pushContent } from './push-content.js';

/** Flags of `img deploy` (given after `bazel run TARGET --`): registry flags, and load's for a load. */
export interface DeployFlags extends RegistryFlags {
  json?: boolean;
  address?: string;
  namespace?: string;
  platform?: string;
  containerdAddress?: string;
  snapshotter?: string;
}

/** A request being run: its name in errors, its tags (tag_file read) and the image. */
interface Deployment<R extends DeployRequest = DeployRequest> {
  readonly request: R;
  readonly name: string;
  readonly tags: string[];
  readonly graph: ImageGraph;
  readonly flags: DeployFlags;
}

type StrategyRunner = (deployment: Deployment, io: Io) => Promise<void>;

/** The request's credential helper: a relative path with a '/' is the workspace's (`bazel run`). */
function credentialHelperFlags(request: DeployRequest, flags: DeployFlags): DeployFlags {
  const helper = request.credential_helper;
  if (!helper || flags.credentialHelper) return flags;
  const workspace = process.env.BUILD_WORKSPACE_DIRECTORY;
  const path = helper.includes('/') && !isAbsolute(helper) && workspace ? join(workspace, helper) : helper;
  return { ...flags, credentialHelper: path };
}

async function pushEagerly({ request, tags, graph, flags }: Deployment<PushRequest>, io: Io): Promise<void> {
  const [first, ...more] = tags;
  const ref = `${request.registry}/${request.repository}${first ? `:${first}` : ''}`;
  await pushContent(
    graph,
    ref,
    {
      ...flags,
      ...(more.length ? { tag: more } : {}),
      ...(isLoopbackRegistry(request.registry) ? { insecure: true } : {}),
    },
    io,
  );
}

async function loadEagerly({ request, tags, graph, flags }: Deployment<LoadRequest>, io: Io) {
  // ctr's own variables choose the containerd socket and namespace unless flags are given.
  const env = request.daemon === 'containerd' ? process.env : {};
  const address = flags.address ?? env.CONTAINERD_ADDRESS;
  const namespace = flags.namespace ?? env.CONTAINERD_NAMESPACE;
  const loadFlags: LoadFlags = {
    ...flags,
    daemon: request.daemon,
    tag: tags,
    ...(address ? { address } : {}),
    ...(namespace ? { namespace } : {}),
    ...((request.sources ?? []).some(isLoopbackRegistry) ? { insecure: true } : {}),
  };
  await loadContent(graph, loadTargetFromFlags(loadFlags), loadFlags, io);
}

/** What each strategy does per command; a strategy without a runner is reserved (rules_img names it). */
const STRATEGIES: Readonly<Record<DeployStrategy, StrategyRunner | undefined>> = {
  eager: (d, io) =>
    d.request.command === 'push'
      ? pushEagerly(d as Deployment<PushRequest>, io)
      : loadEagerly(d as Deployment<LoadRequest>, io),
  lazy: undefined,
  cas_registry: undefined,
  bes: undefined,
};

/**
 * The request's image: its layout, with the request's per-blob sources (local files first, then
 * registry locations) for blobs the layout lacks.
 */
async function requestImage(request: DeployRequest): Promise<ImageGraph> {
  const layout = await readLayout(resolveRequestPath(request.layout));
  if (!request.blobs) return layout;
  const { layers } = reachableDescriptors(layout);
  const descriptors = new Map<Digest, Descriptor>(layers.map((d) => [d.digest, d]));
  const blobs = new Map<Digest, BlobSource>(layout.blobs);
  const locations = new Map<Digest, readonly BlobLocation[]>(layout.locations ?? []);
  for (const [digest, sources] of Object.entries(request.blobs) as Array<[Digest, DeployBlobSource[]]>) {
    const descriptor = descriptors.get(digest);
    if (!descriptor || blobs.has(digest)) continue;
    const file = sources.find((s): s is { file: string } => 'file' in s);
    if (file) blobs.set(digest, fileBlobSource(descriptor, resolveRequestPath(file.file)));
    const registries = sources.filter((s): s is BlobLocation => 'registry' in s);
    if (registries.length) locations.set(digest, [...registries, ...(locations.get(digest) ?? [])]);
  }
  return { ...layout, blobs, locations };
}

/**
 * Run one deploy request (`img deploy`): checks first (templates left unexpanded, tag_file, the
 * strategy), then push or load of the request's image.
 */
export async function runDeployRequest(
  request: DeployRequest,
  path: string,
  flags: DeployFlags,
  io: Io,
): Promise<void> {
  const name = requestName(request, path);
  checkNoTemplates(request, name);
  const strategy = request.strategy ?? 'eager';
  const run = STRATEGIES[strategy];
  if (!run) {
    throw new CliError(
      'IMG_CLI_USAGE',
      `${name}: strategy ${JSON.stringify(strategy)} is not implemented by this img (eager is)`,
    );
  }
  const tags = await requestTags(request, name);
  if (request.command === 'load' && tags.length === 0) {
    throw new CliError(
      'IMG_CLI_USAGE',
      `${name}: no name to load the image as (tag, tag_list and tag_file are empty)`,
    );
  }
  const graph = await requestImage(request);
  await run({ request, name, tags, graph, flags: credentialHelperFlags(request, flags) }, io);
}
