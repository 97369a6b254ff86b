import { fileBlobSource, readLayout } from '@img/oci-layout';
import {
  type BlobLocation,
  type BlobSource,
  type Descriptor,
  type Digest,
  type ImageGraph,
  reachableDescriptors,
} from '@img/oci-spec';
import { RegistryError } from '@img/registry-client';
import { lazyFlagsOf, workspaceHelperPath } from '../deploy/lazy-request.js';
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
import type { LazyFlags } from '../util/lazy-flags.js';
import { isLoopbackRegistry, type RegistryFlags } from '../util/registry.js';
import { type LoadFlags, loadContent, loadTargetFromFlags } from './load-content.js';
import { pushContent } from './push-content.js';

/** Flags of `img deploy` (given after `bazel run TARGET --`): registry flags, and load's for a load. */
export interface DeployFlags extends RegistryFlags, LazyFlags {
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

/** The request's credential helper (a relative path with a '/' is the workspace's) and Docker config. */
function credentialFlags(request: DeployRequest, flags: DeployFlags): DeployFlags {
  const helper = request.credential_helper;
  return {
    ...flags,
    ...(helper && !flags.credentialHelper ? { credentialHelper: workspaceHelperPath(helper) } : {}),
    ...(request.docker_config ? { dockerConfig: request.docker_config } : {}),
  };
}

async function pushRequestImage(
  { request, tags, graph, flags }: Deployment<PushRequest>,
  io: Io,
  options: Parameters<typeof pushContent>[4] = {},
): Promise<void> {
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
    options,
  );
}

/**
 * cas_registry: the registry (img registry serve --reapi-endpoint) keeps its blobs in the remote cache
 * the build wrote its layers to, and learns their sizes from the manifests: layers the build made are
 * neither asked for nor sent, only configs and manifests. A pulled base's layers (not in the cache)
 * are mounted or streamed from their registry as in an eager push.
 */
async function pushToCasRegistry(d: Deployment<PushRequest>, io: Io): Promise<void> {
  const { layers } = reachableDescriptors(d.graph);
  const built = layers.filter((l) => (d.graph.locations?.get(l.digest) ?? []).length === 0);
  try {
    await pushRequestImage(d, io, { skipBlobs: new Set(built.map((l) => l.digest)) });
  } catch (err) {
    if (!(err instanceof RegistryError) || err.distributionCode !== 'MANIFEST_BLOB_UNKNOWN') throw err;
    const detail = err.diagnostics[0]?.message ?? err.message;
    throw new CliError(
      'IMG_CLI_PUSH_REFUSED',
      `${d.name}: ${d.request.registry} refused the manifest: ${detail}. The cas_registry strategy sends no layers: the registry must read them from the remote cache this build wrote to (img registry serve --reapi-endpoint = the build's --remote_cache; build again if the cache evicted them), or push with the eager or lazy strategy`,
      { cause: err },
    );
  }
}

/** bes: the Build Event Service listener pushed the image when the target was built; nothing is left to do. */
async function pushedByBes(request: PushRequest, name: string, io: Io): Promise<void> {
  io.err(
    `${name}: push_strategy bes: ${request.registry}/${request.repository} is pushed at build time by the BES listener (img bes serve), from the remote cache; bazel run does nothing`,
  );
}

async function loadRequestImage({ request, tags, graph, flags }: Deployment<LoadRequest>, io: Io) {
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

/** The request's push or load of its image, with the blob sources it names. */
const deployImage: StrategyRunner = (d, io) =>
  d.request.command === 'push'
    ? pushRequestImage(d as Deployment<PushRequest>, io)
    : loadRequestImage(d as Deployment<LoadRequest>, io);

/** What each strategy (rules_img's names) does per command. */
const STRATEGIES: Readonly<Record<DeployStrategy, StrategyRunner>> = {
  eager: deployImage,
  // The same push or load, with every layer's places (its file, the disk and remote caches, its registry).
  lazy: async (d, io) => deployImage({ ...d, flags: { ...d.flags, ...(await lazyFlagsOf(d.request)) } }, io),
  cas_registry: (d, io) =>
    d.request.command === 'push'
      ? pushToCasRegistry(d as Deployment<PushRequest>, io)
      : loadRequestImage(d as Deployment<LoadRequest>, io),
  bes: (d, io) =>
    d.request.command === 'push'
      ? pushedByBes(d.request as PushRequest, d.name, io)
      : loadRequestImage(d as Deployment<LoadRequest>, io),
};

/**
 * The request's image: its layout, with the request's per-blob sources (local files first, then
 * registry locations) for blobs the layout lacks.
 */
async function requestImage(request: DeployRequest, name: string): Promise<ImageGraph> {
  if (request.layout === undefined) throw new CliError('IMG_CLI_INVALID_INPUT', `${name}: no layout`);
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
 * Run one deploy request (`img deploy`): checks first (templates left unexpanded, tag_file), then push or load of the request's image.
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
  const tags = await requestTags(request, name);
  if (request.command === 'load' && tags.length === 0) {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `${name}: no name to load the image as (tag, tag_list and tag_file are empty)`,
    );
  }
  // The image of a bes push is in the remote cache, not here: the request names it by its root only.
  if (strategy === 'bes' && request.command === 'push') return pushedByBes(request, name, io);
  const graph = await requestImage(request, name);
  await run({ request, name, tags, graph, flags: credentialFlags(request, flags) }, io);
}
