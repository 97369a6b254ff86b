import { readLayout } from '@img/oci-layout';
import {
  formatPlatform,
  type ImageEntry,
  type ImageGraph,
  isDistributable,
  listManifests,
  parsePlatform,
  platformMatchRank,
  withRemoteBlobs,
} from '@img/oci-spec';
import type { Command } from 'commander';
import { registryFetcher } from '../image/remote-blobs.js';
import type { Io } from '../io.js';
import {
  type CheckResult,
  checkFileContent,
  checkFileExistence,
  checkMetadata,
} from '../structure-test/checks.js';
import { readStructureTestConfig, type StructureTestConfig } from '../structure-test/config.js';
import { ImageFilesystem, type LayerBlob } from '../structure-test/filesystem.js';
import { CliError } from '../util/errors.js';
import { collect } from '../util/flags.js';
import { addRegistryFlags, type RegistryFlags } from '../util/registry.js';

interface StructureTestFlags extends RegistryFlags {
  config?: string[];
  platform?: string;
  followSymlinks?: boolean;
}

/**
 * The layers of one image: from the layout, else (a shallow layout) streamed from the registries
 * it names, through the graph's remote blob sources.
 */
function layerBlobs(graph: ImageGraph, m: ImageEntry): LayerBlob[] {
  return m.manifest.layers
    .filter((d) => isDistributable(d.mediaType) || graph.blobs.has(d.digest))
    .map((descriptor) => {
      const source = graph.blobs.get(descriptor.digest);
      if (!source) {
        throw new CliError(
          'IMG_CLI_INVALID_INPUT',
          `layer ${descriptor.digest} is neither in the layout nor in img-sources.json`,
        );
      }
      return { descriptor, open: () => source.open() };
    });
}

/** Checks that need a running container: they fail, saying why. */
function unsupported(config: StructureTestConfig): CheckResult[] {
  const out: CheckResult[] = [];
  if (config.commandTests.length > 0) {
    out.push({
      name: `commandTests (${config.commandTests.map((t) => t.name).join(', ')})`,
      pass: false,
      message:
        'commandTests run the image, and no container runtime is configured for this test: img structure-test checks the config and the layers without a daemon (metadataTest, fileExistenceTests, fileContentTests)',
    });
  }
  if (config.licenseTests > 0) {
    out.push({
      name: `licenseTests (${config.licenseTests})`,
      pass: false,
      message: 'licenseTests scan a running container, and no container runtime is configured for this test',
    });
  }
  return out;
}

/**
 * Run container-structure-test configs against an image without a daemon: metadataTest against the
 * config, fileExistenceTests and fileContentTests against the layers (the one file is streamed out
 * of its layer blob). Every image of an index is checked unless --platform picks one.
 */
async function runStructureTest(source: string, flags: StructureTestFlags, io: Io): Promise<void> {
  if (!flags.config?.length) throw new CliError('IMG_CLI_USAGE', 'give at least one --config');
  const configs = await Promise.all(flags.config.map(readStructureTestConfig));
  const layout = await readLayout(source, flags.followSymlinks ? { followSymlinks: true } : {});
  const remote = registryFetcher(flags);
  const graph = withRemoteBlobs(layout, remote.fetch);
  let manifests = listManifests(graph);
  if (flags.platform) {
    const want = parsePlatform(flags.platform, '--platform');
    manifests = manifests.filter((m) => platformMatchRank(want, m.platform) !== undefined);
    if (manifests.length === 0)
      throw new CliError('IMG_CLI_INVALID_INPUT', `${source}: no image for --platform ${flags.platform}`);
  }
  let passed = 0;
  const failed: string[] = [];
  try {
    for (const m of manifests) {
      const label = manifests.length > 1 ? ` [${formatPlatform(m.platform)}]` : '';
      let fs: ImageFilesystem | undefined;
      for (const config of configs) {
        const results: CheckResult[] = [];
        if (config.metadataTest) results.push(...checkMetadata(m.config, config.metadataTest));
        if (config.fileExistenceTests.length || config.fileContentTests.length) {
          fs ??= await ImageFilesystem.read(layerBlobs(graph, m));
          results.push(...checkFileExistence(fs, config.fileExistenceTests));
          results.push(...(await checkFileContent(fs, config.fileContentTests)));
        }
        results.push(...unsupported(config));
        for (const r of results) {
          const line = `${r.pass ? 'PASS' : 'FAIL'} ${config.file}${label}: ${r.name}${r.message ? `: ${r.message}` : ''}`;
          io.out(line);
          if (r.pass) passed++;
          else failed.push(line.slice(5));
        }
      }
    }
  } finally {
    await remote.close();
  }
  io.out(`${passed} passed, ${failed.length} failed`);
  if (failed.length > 0) {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `structure test failed: ${failed.length} of ${passed + failed.length} checks (${failed[0]}${failed.length > 1 ? ', ...' : ''})`,
    );
  }
}

export function registerStructureTest(program: Command, io: Io): void {
  const cmd = program
    .command('structure-test')
    .description(
      'check an image against container-structure-test configs (YAML/JSON) without a daemon: metadata, file existence and file content',
    )
    .argument(
      '<image>',
      'oci:DIR, oci-archive:FILE or a layout directory (a shallow layout fetches base layers from their registry)',
    )
    .option('--config <file>', 'a container-structure-test config, YAML or JSON (repeatable)', collect)
    .option('--platform <os/arch[/variant]>', 'check only this image of an index (default: every image)')
    .option(
      '--follow-symlinks',
      'follow symlinks in the layout directory (Bazel runfiles); without it a symlinked file is refused',
    );
  addRegistryFlags(cmd);
  cmd.action(async (image: string, flags: StructureTestFlags) => runStructureTest(image, flags, io));
}
