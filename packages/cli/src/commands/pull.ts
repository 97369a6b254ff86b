import {
  BASE_INFO_FILE,
  type BaseInfo,
  blobPath,
  checkLayoutDirectory,
  DirectorySink,
  layoutIndex,
  OCI_LAYOUT_FILE,
  SOURCES_FILE,
} from '@img/oci-layout';
import { canonicalJsonBytes, type Descriptor, listManifests, parsePlatform } from '@img/oci-spec';
import { formatReference } from '@img/registry-client';
import type { Command } from 'commander';
import { FORCE_HELP, layoutDirectoryOptions } from '../image/output.js';
import type { Io } from '../io.js';
import { addRegistryFlags, createRegistryClient, type RegistryFlags } from '../util/registry.js';

interface PullFlags extends RegistryFlags {
  output: string;
  platform?: string;
  layers?: boolean;
  force?: boolean;
}

/**
 * Pull an image into an OCI layout directory (a new one, or an existing layout it is added to):
 * manifests and configs always (exact bytes, verified), layers only with `--layers`. The layout records where the layers live (img-base.json), so
 * `img build` and `img manifest --base` use it without layer bytes, and push mounts them.
 */
async function runPull(ref: string, flags: PullFlags, io: Io): Promise<Descriptor> {
  const platform = flags.platform ? parsePlatform(flags.platform, '--platform') : undefined;
  const into = layoutDirectoryOptions(flags);
  await checkLayoutDirectory(flags.output, into);
  const client = createRegistryClient(flags);
  const sink = new DirectorySink(flags.output, into);
  try {
    let layerCount = 0;
    const pulled = await client.pullImage(ref, {
      ...(platform ? { platform } : {}),
      ...(flags.layers
        ? {
            layers: async (d: Descriptor, body: NodeJS.ReadableStream) => {
              await sink.addFile(blobPath(d.digest), d.size, body as never);
              layerCount++;
            },
          }
        : {}),
    });
    await sink.addFile('oci-layout', OCI_LAYOUT_FILE.length, OCI_LAYOUT_FILE);
    // Every document of the pull (each fetched and checked once), exact bytes.
    for (const [digest, bytes] of pulled.documents) await sink.addFile(blobPath(digest), bytes.length, bytes);
    // With --platform on an index, the layout holds that one image: its manifest is the root.
    const root = pulled.root;
    const info: BaseInfo = {
      reference: formatReference(pulled.reference),
      registry: pulled.reference.registry,
      repository: pulled.reference.repository,
      ...(pulled.reference.tag ? { tag: pulled.reference.tag } : {}),
      digest: pulled.resolved.digest,
    };
    const infoBytes = canonicalJsonBytes(info);
    await sink.addFile(BASE_INFO_FILE, infoBytes.length, infoBytes);
    // Per layer too, so the sources stay right when more images are pulled into the same layout.
    const sources = Object.fromEntries(pulled.locations);
    const sourcesBytes = canonicalJsonBytes(sources);
    await sink.addFile(SOURCES_FILE, sourcesBytes.length, sourcesBytes);
    const index = layoutIndex(root, { refName: pulled.reference.tag ?? 'latest' });
    await sink.addFile('index.json', index.length, index);
    await sink.commit();
    if (!io.quiet) {
      io.err(
        `pulled ${listManifests(pulled).length} image(s), ${layerCount} layer(s) downloaded${flags.layers ? '' : ' (shallow: manifests and configs only)'}`,
      );
    }
    io.out(`${info.registry}/${info.repository}@${root.digest}`);
    return root;
  } catch (err) {
    await sink.abort();
    throw err;
  } finally {
    await client.close();
  }
}

export function registerPull(program: Command, io: Io): void {
  const cmd = program
    .command('pull')
    .description('pull an image into an OCI layout: manifests and configs only, unless --layers')
    .argument('<reference>', 'registry/repository[:tag][@digest] (Docker Hub names allowed)')
    .requiredOption(
      '-o, --output <dir>',
      'layout directory: a new one, or an existing layout the image is added to (usable as a base: oci:DIR or DIR)',
    )
    .option('--platform <os/arch[/variant]>', 'keep only this platform of an index (default: all)')
    .option('--layers', 'also download the layers (eager)')
    .option('--force', FORCE_HELP);
  addRegistryFlags(cmd).action(async (ref: string, flags: PullFlags) => {
    await runPull(ref, flags, io);
  });
}
