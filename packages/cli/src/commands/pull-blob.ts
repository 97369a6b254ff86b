import { dirname } from 'node:path';
import { makeDirectory, writeFileAtomic } from '@img/atomic-write';
import { type BlobLocation, firstAvailableSource, parseLayerMetadata } from '@img/oci-spec';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { readInput } from '../util/files.js';
import { collect } from '../util/flags.js';
import { addRegistryFlags, createRegistryClient, type RegistryFlags } from '../util/registry.js';

// `img pull-blob`: the build action of pull(layer_handling = "lazy") - one layer of a pulled image
// downloaded from its registry into a file, verified against its metadata before it is renamed into
// place, so the blob is an ordinary action output (and lands in Bazel's remote cache).

interface PullBlobFlags extends RegistryFlags {
  metadata: string;
  source: string[];
  output: string;
}

function parseLocation(value: string): BlobLocation {
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1)
    throw new CliError('IMG_CLI_USAGE', `--source ${JSON.stringify(value)}: expected REGISTRY/REPOSITORY`);
  return { registry: value.slice(0, slash), repository: value.slice(slash + 1) };
}

export async function runPullBlob(flags: PullBlobFlags): Promise<void> {
  const where = `--metadata ${flags.metadata}`;
  const layer = parseLayerMetadata(await readInput(flags.metadata, '--metadata'), where);
  const locations = (flags.source ?? []).map(parseLocation);
  if (locations.length === 0) throw new CliError('IMG_CLI_USAGE', 'give at least one --source');
  const descriptor = { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
  // Loopback registries get plain HTTP from the client itself.
  const client = createRegistryClient(flags);
  try {
    // Each registry source verifies the bytes (size and digest) before the stream ends, so a bad
    // download never reaches the output's final name.
    const source = firstAvailableSource(
      descriptor,
      locations.map((l) => client.blobSource(l, descriptor)),
    );
    await makeDirectory(dirname(flags.output));
    await writeFileAtomic(flags.output, await source.open());
  } finally {
    await client.close();
  }
}

export function registerPullBlob(program: Command, _io: Io): void {
  const cmd = program
    .command('pull-blob')
    .description(
      'download one layer blob (named by its layer metadata) from its registry into a file, verified',
    )
    .requiredOption('--metadata <file>', 'layer metadata JSON (mediaType, digest, size)')
    .option('--source <registry/repository>', 'where the blob is (repeatable; tried in order)', collect, [])
    .requiredOption('-o, --output <file>', 'the blob file to write');
  addRegistryFlags(cmd).action(async (flags: PullBlobFlags) => {
    await runPullBlob(flags);
  });
}
