import { type BaseImage, buildImage, checkBaseImage } from '@img/image-assembly';
import {
  asManifest,
  documentKind,
  type ImageConfig,
  parseJson,
  parseLayerMetadata,
  parsePlatform,
  sha256Digest,
  unixToRfc3339,
} from '@img/oci-spec';
import type { Command } from 'commander';
import { baseImageOf, openBaseLayout } from '../image/load-base.js';
import type { Io } from '../io.js';
import { addImageValueOptions, readSubject } from '../template/image-value-options.js';
import { type ImageValueFlags, resolveImageValues } from '../template/image-values.js';
import { CliError } from '../util/errors.js';
import { readInput, readJsonInput, writeDescriptorOutputs, writeFileAtomic } from '../util/files.js';
import { collect, sourceDateEpoch } from '../util/flags.js';

interface ManifestFlags extends ImageValueFlags {
  layer?: string[];
  base?: string;
  baseManifest?: string;
  baseConfig?: string;
  baseName?: string;
  baseSource?: string[];
  configFragment?: string;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  workdir?: string;
  exposePort?: string[];
  volume?: string[];
  stopSignal?: string;
  subject?: string;
  artifactType?: string;
  platform: string;
  manifest: string;
  config: string;
  descriptor?: string;
  digest?: string;
}

async function baseFromFiles(flags: ManifestFlags): Promise<BaseImage> {
  const manifestBytes = await readInput(flags.baseManifest!, '--base-manifest');
  const doc = parseJson(manifestBytes, `--base-manifest ${flags.baseManifest}`);
  if (documentKind(doc) !== 'manifest') {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `--base-manifest ${flags.baseManifest}: is an index; give one platform's manifest (or use --base DIR)`,
    );
  }
  const manifest = asManifest(doc, `--base-manifest ${flags.baseManifest}`);
  const configBytes = await readInput(flags.baseConfig!, '--base-config');
  if (sha256Digest(configBytes) !== manifest.config.digest) {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `--base-config ${flags.baseConfig}: digest ${sha256Digest(configBytes)} is not the manifest's config ${manifest.config.digest}`,
    );
  }
  const config = parseJson(configBytes, `--base-config ${flags.baseConfig}`) as ImageConfig;
  const sources = (flags.baseSource ?? []).map((s) => {
    const slash = s.indexOf('/');
    if (slash <= 0)
      throw new CliError('IMG_CLI_USAGE', `--base-source ${JSON.stringify(s)}: expected REGISTRY/REPOSITORY`);
    return { registry: s.slice(0, slash), repository: s.slice(slash + 1) };
  });
  const base: BaseImage = {
    descriptor: {
      mediaType: manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256Digest(manifestBytes),
      size: manifestBytes.length,
    },
    manifest,
    config,
    ...(flags.baseName ? { name: flags.baseName } : {}),
    ...(sources.length ? { locations: sources } : {}),
  };
  checkBaseImage(base, `--base-manifest ${flags.baseManifest}`);
  return base;
}

async function runManifest(flags: ManifestFlags, io: Io): Promise<void> {
  const platform = parsePlatform(flags.platform, '--platform');
  if ((flags.baseManifest === undefined) !== (flags.baseConfig === undefined)) {
    throw new CliError('IMG_CLI_USAGE', '--base-manifest and --base-config go together');
  }
  if (flags.base && flags.baseManifest)
    throw new CliError('IMG_CLI_USAGE', '--base and --base-manifest exclude each other');
  let base: BaseImage | undefined;
  if (flags.baseManifest) base = await baseFromFiles(flags);
  else if (flags.base) base = baseImageOf(await openBaseLayout(flags.base), flags.base, platform, '--base');
  const layers = [];
  for (const path of flags.layer ?? []) {
    layers.push(parseLayerMetadata(await readInput(path, '--layer'), `--layer ${path}`));
  }
  const fragment = flags.configFragment
    ? ((await readJsonInput(flags.configFragment, '--config-fragment')) as Record<string, unknown>)
    : undefined;
  const epoch = sourceDateEpoch();
  const values = await resolveImageValues(
    flags,
    base ? { config: base.config, manifest: base.manifest, digest: base.descriptor.digest } : undefined,
  );
  const explicitCreated = flags.created !== undefined || flags.createdFile !== undefined;
  const created =
    values.created ?? (!explicitCreated && epoch !== undefined ? unixToRfc3339(epoch) : undefined);
  const { env, labels, annotations } = values;
  const subject = flags.subject ? await readSubject(flags.subject) : undefined;
  const image = buildImage({
    platform,
    layers,
    ...(base ? { base } : {}),
    ...(fragment ? { configFragment: fragment } : {}),
    ...(env ? { env } : {}),
    ...(flags.entrypoint ? { entrypoint: flags.entrypoint } : {}),
    ...(flags.cmd ? { cmd: flags.cmd } : {}),
    ...(flags.user !== undefined ? { user: flags.user } : {}),
    ...(flags.workdir !== undefined ? { workingDir: flags.workdir } : {}),
    ...(labels ? { labels } : {}),
    ...(flags.exposePort ? { exposedPorts: flags.exposePort } : {}),
    ...(flags.volume ? { volumes: flags.volume } : {}),
    ...(flags.stopSignal !== undefined ? { stopSignal: flags.stopSignal } : {}),
    ...(annotations ? { annotations } : {}),
    ...(created !== undefined ? { created } : {}),
    ...(epoch !== undefined ? { historyCreated: unixToRfc3339(epoch) } : {}),
    ...(subject ? { subject } : {}),
    ...(flags.artifactType ? { artifactType: flags.artifactType } : {}),
  });
  await writeFileAtomic(flags.config, image.configBytes);
  await writeFileAtomic(flags.manifest, image.manifestBytes);
  await writeDescriptorOutputs(image.descriptor, flags);
  io.out(image.descriptor.digest);
}

export function registerManifest(program: Command, io: Io): void {
  const cmd = program
    .command('manifest')
    .description('assemble an image config and manifest from layer metadata files (never reads layer blobs)')
    .option('--layer <meta.json>', 'layer metadata from img layer, in order (repeatable)', collect)
    .option('--base <layout>', 'base image: oci:DIR, oci-archive:FILE or a directory from img pull')
    .option('--base-manifest <file>', 'base image manifest (with --base-config)')
    .option('--base-config <file>', 'base image config (with --base-manifest)')
    .option('--base-name <name>', 'base image name for org.opencontainers.image.base.name')
    .option(
      '--base-source <registry/repo>',
      'where base layers live, for push and load (repeatable)',
      collect,
    )
    .option('--config-fragment <file>', 'partial image config JSON merged over the base')
    .option('--entrypoint <arg>', 'entrypoint argument (repeatable; clears an inherited cmd)', collect)
    .option('--cmd <arg>', 'cmd argument (repeatable)', collect)
    .option('--user <user>', 'user[:group] to run as')
    .option('--workdir <dir>', 'working directory')
    .option('--expose-port <port>', 'exposed port, e.g. 80 or 53/udp (repeatable)', collect)
    .option('--volume <path>', 'volume (repeatable)', collect)
    .option('--stop-signal <signal>', 'stop signal')
    .option('--artifact-type <type>', 'the manifest artifactType')
    .option('--platform <os/arch[/variant]>', 'target platform', 'linux/amd64')
    .requiredOption('--manifest <out>', 'where to write the manifest')
    .requiredOption('--config <out>', 'where to write the config')
    .option('--descriptor <out>', 'where to write the manifest descriptor (with platform)')
    .option('--digest <out>', 'where to write the manifest digest');
  addImageValueOptions(cmd, 'config');
  cmd.action(async (flags: ManifestFlags) => runManifest(flags, io));
}
