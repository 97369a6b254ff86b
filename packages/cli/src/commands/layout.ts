import { fileBlobSource } from '@img/oci-layout';
import {
  type BlobLocation,
  type BlobSource,
  type Descriptor,
  type Digest,
  documentKind,
  type ImageConfig,
  parseJson,
  parseLayerMetadata,
  platformOfConfig,
  sha256Digest,
} from '@img/oci-spec';
import type { Command } from 'commander';
import { checkOutputTarget, FORCE_HELP, parseOutputTarget, writeOutput } from '../image/output.js';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { readInput } from '../util/files.js';
import { collect, splitPair } from '../util/flags.js';

interface LayoutFlags {
  index?: string;
  manifest?: string[];
  config?: string[];
  layer?: string[];
  output: string;
  allowMissingBlobs?: boolean;
  force?: boolean;
}

async function runLayout(flags: LayoutFlags, io: Io): Promise<void> {
  const target = parseOutputTarget(flags.output);
  await checkOutputTarget(target, flags);
  const documents = new Map<Digest, Uint8Array>();
  const add = async (path: string, flag: string) => {
    const bytes = await readInput(path, flag);
    documents.set(sha256Digest(bytes), bytes);
    return bytes;
  };
  let root: Descriptor | undefined;
  const configs: Buffer[] = [];
  for (const path of flags.config ?? []) configs.push(await add(path, '--config'));
  const manifests: Descriptor[] = [];
  for (const path of flags.manifest ?? []) {
    const bytes = await add(path, '--manifest');
    const doc = parseJson(bytes, `--manifest ${path}`) as { mediaType?: string; config?: Descriptor };
    if (documentKind(doc) !== 'manifest')
      throw new CliError('IMG_CLI_INVALID_INPUT', `--manifest ${path}: not an image manifest`);
    const cfgBytes = doc.config ? documents.get(doc.config.digest) : undefined;
    if (!cfgBytes)
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `--manifest ${path}: its config ${doc.config?.digest} was not given with --config`,
      );
    const cfg = parseJson(cfgBytes, 'config') as ImageConfig;
    manifests.push({
      mediaType: doc.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256Digest(bytes),
      size: bytes.length,
      platform: platformOfConfig(cfg),
    });
  }
  if (flags.index) {
    const bytes = await add(flags.index, '--index');
    const doc = parseJson(bytes, `--index ${flags.index}`) as { mediaType?: string };
    if (documentKind(doc) !== 'index')
      throw new CliError('IMG_CLI_INVALID_INPUT', `--index ${flags.index}: not an image index`);
    root = {
      mediaType: doc.mediaType ?? 'application/vnd.oci.image.index.v1+json',
      digest: sha256Digest(bytes),
      size: bytes.length,
    };
  } else if (manifests.length === 1) {
    root = manifests[0];
  } else {
    throw new CliError('IMG_CLI_USAGE', 'give --index, or exactly one --manifest');
  }
  const blobs = new Map<Digest, BlobSource>();
  const locations = new Map<Digest, readonly BlobLocation[]>();
  for (const value of flags.layer ?? []) {
    // META=BLOB, or META alone for a shallow layer whose metadata names its sources (a pulled base).
    const [metaPath, blobPath] = value.includes('=') ? splitPair(value, '--layer') : [value, undefined];
    const meta = parseLayerMetadata(await readInput(metaPath, '--layer'), `--layer ${metaPath}`);
    if (blobPath !== undefined) {
      // Written by `img layer` with this metadata: the file holds exactly these bytes (linked, not copied).
      blobs.set(meta.digest, fileBlobSource(meta, blobPath));
    } else if (meta.sources?.length) {
      locations.set(meta.digest, meta.sources);
    } else {
      throw new CliError(
        'IMG_CLI_USAGE',
        `--layer ${metaPath}: no blob given and the metadata names no sources (expected META=BLOB)`,
      );
    }
  }
  await writeOutput({ root: root!, documents, blobs, ...(locations.size ? { locations } : {}) }, target, {
    ...(flags.allowMissingBlobs ? { allowMissingBlobs: true } : {}),
    ...(flags.force ? { force: true } : {}),
  });
  io.out(`${flags.output}@${root!.digest}`);
}

export function registerLayout(program: Command, io: Io): void {
  program
    .command('layout')
    .description(
      'write an OCI layout (dir or tar) or a docker-save tar from a manifest or index and layer blobs',
    )
    .option('--index <file>', 'root index (its manifests and configs given with --manifest/--config)')
    .option('--manifest <file>', 'image manifest (repeatable)', collect)
    .option('--config <file>', 'image config (repeatable)', collect)
    .option(
      '--layer <meta.json[=blob]>',
      'layer metadata and blob file, or metadata alone for a base layer with sources (repeatable)',
      collect,
    )
    .requiredOption('-o, --output <target>', 'oci:DIR | oci-archive:FILE | docker-archive:FILE[:NAME:TAG]')
    .option('--allow-missing-blobs', 'write a shallow layout when layer blobs are absent')
    .option('--force', FORCE_HELP)
    .action(async (flags: LayoutFlags) => runLayout(flags, io));
}
