import { stat } from 'node:fs/promises';
import { fileBlobSource } from '@img/oci-layout';
import {
  asIndex,
  type BlobLocation,
  type Descriptor,
  type Digest,
  documentKind,
  type ImageGraph,
  isDistributable,
  type Manifest,
  MediaType,
  parseDigest,
  parseJson,
  sha256Digest,
} from '@img/oci-spec';
import { type BlobToPush, type PushSummary, parseReference, type RawDocument } from '@img/registry-client';
import type { Command } from 'commander';
import { checkNoTemplates, type PushRequest, readDeployRequest, requestName } from '../deploy/request.js';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { readInput, readJsonInput, writeFileAtomic } from '../util/files.js';
import { collect } from '../util/flags.js';
import {
  addRegistryFlags,
  createRegistryClient,
  isLoopbackRegistry,
  type RegistryFlags,
} from '../util/registry.js';

// Push at build time (rules_img's PushImage validation actions): `img push-blob` puts one blob into a
// repository (HEAD first: a blob the registry has is not sent again), `img push-manifest` puts the
// manifests and tags of an image whose blobs are already there. Both write a result file (the
// action's output) and, with --best-effort, turn a failure into a warning.

interface BestEffortFlags extends RegistryFlags {
  output: string;
  bestEffort?: boolean;
}

interface PushBlobFlags extends BestEffortFlags {
  request?: string;
  metadata?: string;
  blob?: string;
  mediaType?: string;
  source?: string[];
}

interface PushManifestFlags extends BestEffortFlags {
  request: string;
  manifest?: string[];
  index?: string;
}

function parseSources(values: readonly string[] | undefined): BlobLocation[] {
  return (values ?? []).map((s) => {
    const slash = s.indexOf('/');
    if (slash <= 0)
      throw new CliError('IMG_CLI_USAGE', `--source ${JSON.stringify(s)}: expected REGISTRY/REPOSITORY`);
    return { registry: s.slice(0, slash), repository: s.slice(slash + 1) };
  });
}

function repositoryOf(target: string, flag: string): BlobLocation {
  const ref = parseReference(target, { defaultTag: false });
  if (ref.tag || ref.digest)
    throw new CliError('IMG_CLI_USAGE', `${flag} ${JSON.stringify(target)}: give REGISTRY/REPOSITORY only`);
  return { registry: ref.registry, repository: ref.repository };
}

/** The push request image_push wrote (`<name>_request.json`): destination and tags. */
async function readPushRequest(path: string): Promise<PushRequest> {
  const request = await readDeployRequest(path);
  const name = requestName(request, path);
  if (request.command !== 'push')
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `--request ${path}: a ${request.command} request, not a push`,
    );
  checkNoTemplates(request, name);
  return request;
}

async function blobDescriptor(flags: PushBlobFlags): Promise<Descriptor> {
  if (flags.metadata) {
    const m = (await readJsonInput(flags.metadata, '--metadata')) as Partial<Descriptor>;
    if (typeof m?.mediaType !== 'string' || typeof m.size !== 'number') {
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `--metadata ${flags.metadata}: expected mediaType, digest and size`,
      );
    }
    return {
      mediaType: m.mediaType,
      digest: parseDigest(m.digest, `--metadata ${flags.metadata}: digest`),
      size: m.size,
    };
  }
  if (!flags.blob) throw new CliError('IMG_CLI_USAGE', 'give --metadata, or --blob with --media-type');
  const bytes = await readInput(flags.blob, '--blob');
  return {
    mediaType: flags.mediaType ?? MediaType.OciConfig,
    digest: sha256Digest(bytes),
    size: bytes.length,
  };
}

async function bestEffort(
  flags: BestEffortFlags,
  io: Io,
  what: string,
  push: () => Promise<Record<string, unknown>>,
): Promise<void> {
  let result: Record<string, unknown>;
  try {
    result = await push();
  } catch (err) {
    if (!flags.bestEffort) throw err;
    io.err(`img: warning: ${what}: ${(err as Error).message} (push at build time is best_effort)`);
    result = { error: (err as Error).message };
  }
  await writeFileAtomic(flags.output, `${JSON.stringify(result)}\n`);
}

const clientFor = (flags: RegistryFlags, registry: string) =>
  createRegistryClient({ ...flags, insecure: flags.insecure || isLoopbackRegistry(registry) });

const summaryFields = (s: PushSummary) => ({
  uploaded: s.blobsUploaded,
  skipped: s.blobsSkipped,
  mounted: s.blobsMounted,
  bytes: s.bytesUploaded,
  requests: s.requests,
});

async function runPushBlob(target: string | undefined, flags: PushBlobFlags, io: Io): Promise<void> {
  if ((target === undefined) === (flags.request === undefined)) {
    throw new CliError('IMG_CLI_USAGE', 'give either <repository> or --request');
  }
  const dest = target
    ? repositoryOf(target, '<repository>')
    : await readPushRequest(flags.request!).then((r) => ({ registry: r.registry, repository: r.repository }));
  const descriptor = await blobDescriptor(flags);
  const sources = parseSources(flags.source);
  if (flags.blob) {
    const size = (await stat(flags.blob)).size;
    if (size !== descriptor.size) {
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `--blob ${flags.blob}: ${size} bytes, but the descriptor says ${descriptor.size}`,
      );
    }
  }
  const blob: BlobToPush = {
    descriptor,
    ...(flags.blob ? { source: fileBlobSource(descriptor, flags.blob) } : {}),
    locations: sources,
  };
  await bestEffort(
    flags,
    io,
    `push ${descriptor.digest} to ${dest.registry}/${dest.repository}`,
    async () => {
      const client = clientFor(flags, dest.registry);
      try {
        const summary = await client.pushBlobs(dest, [blob]);
        return { digest: descriptor.digest, ...summaryFields(summary) };
      } finally {
        await client.close();
      }
    },
  );
}

async function rawDocument(path: string, flag: string): Promise<RawDocument> {
  const bytes = await readInput(path, flag);
  const doc = parseJson(bytes, `${flag} ${path}`) as { mediaType?: string };
  const kind = documentKind(doc);
  const mediaType = doc.mediaType ?? (kind === 'index' ? MediaType.OciIndex : MediaType.OciManifest);
  return { descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length }, bytes };
}

async function runPushManifest(flags: PushManifestFlags, io: Io): Promise<void> {
  const request = await readPushRequest(flags.request);
  const tags = request.tags;
  const manifests = await Promise.all((flags.manifest ?? []).map((p) => rawDocument(p, '--manifest')));
  const index = flags.index ? await rawDocument(flags.index, '--index') : undefined;
  if (!index && manifests.length !== 1)
    throw new CliError('IMG_CLI_USAGE', 'give one --manifest, or --index and its --manifest files');
  if (index) {
    const children = asIndex(
      parseJson(index.bytes, `--index ${flags.index}`),
      `--index ${flags.index}`,
    ).manifests;
    const have = new Set(manifests.map((m) => m.descriptor.digest));
    const missing = children.find((c) => !have.has(c.digest));
    if (missing)
      throw new CliError(
        'IMG_CLI_USAGE',
        `--index ${flags.index}: child ${missing.digest} is not among the --manifest files`,
      );
  }
  // Every blob was pushed by img push-blob: each is located in the target repository only, so the
  // push HEADs it there and fails, naming it, when it is missing.
  const at: BlobLocation = { registry: request.registry, repository: request.repository };
  const locations = new Map<Digest, readonly BlobLocation[]>();
  for (const m of manifests) {
    const manifest = parseJson(m.bytes, 'manifest') as Manifest;
    for (const d of [manifest.config, ...manifest.layers.filter((l) => isDistributable(l.mediaType))])
      locations.set(d.digest, [at]);
  }
  const root = index ?? manifests[0]!;
  const graph: ImageGraph = {
    root: root.descriptor,
    documents: new Map([...manifests, ...(index ? [index] : [])].map((d) => [d.descriptor.digest, d.bytes])),
    blobs: new Map(),
    locations,
  };
  const target = `${request.registry}/${request.repository}`;
  await bestEffort(flags, io, `push ${target}`, async () => {
    const client = clientFor(flags, request.registry);
    try {
      const result = await client.pushImage(target, graph, { tags });
      return { digest: result.descriptor.digest, tags: result.tags, ...summaryFields(result.summary) };
    } finally {
      await client.close();
    }
  });
}

export function registerPushBlob(program: Command, io: Io): void {
  const cmd = program
    .command('push-blob')
    .description('push one blob into a repository, skipping it when the registry has it (push at build time)')
    .argument('[repository]', 'REGISTRY/REPOSITORY (or --request)')
    .option('--request <file>', 'deploy request JSON: its registry and repository are the destination')
    .option('--metadata <file>', 'layer metadata JSON (or a descriptor) naming the blob')
    .option('--blob <file>', 'the blob bytes (without it: mounted or streamed from a --source)')
    .option(
      '--media-type <type>',
      'media type of --blob when there is no --metadata (default: OCI image config)',
    )
    .option(
      '--source <registry/repository>',
      'where the blob is when there is no --blob (repeatable)',
      collect,
    )
    .requiredOption('--output <file>', 'where to write the result (JSON)')
    .option('--best-effort', 'on failure warn and still succeed');
  addRegistryFlags(cmd);
  cmd.action(async (repository: string | undefined, flags: PushBlobFlags) =>
    runPushBlob(repository, flags, io),
  );
}

export function registerPushManifest(program: Command, io: Io): void {
  const cmd = program
    .command('push-manifest')
    .description(
      'push the manifests and tags of an image whose blobs are in the registry (push at build time)',
    )
    .requiredOption('--request <file>', 'deploy request JSON with registry, repository and tags')
    .option('--manifest <file>', 'an image manifest (repeatable: the children of --index)', collect)
    .option('--index <file>', 'the image index, when the image is one')
    .requiredOption('--output <file>', 'where to write the result (JSON)')
    .option('--best-effort', 'on failure warn and still succeed');
  addRegistryFlags(cmd);
  cmd.action(async (flags: PushManifestFlags) => runPushManifest(flags, io));
}
