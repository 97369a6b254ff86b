import { type FileMetadata, type LayerEntry, writeLayerMetadata } from '@img/layer-writer';
import type { Command } from 'commander';
import { type LayerRequest, writeRequestedLayer } from '../image/layer-request.js';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { removeIfFails } from '../util/files.js';
import { collect, parseJsonFlag, splitPair } from '../util/flags.js';
import { warnIfGzipNotReference } from '../util/gzip-warning.js';
import {
  estargzRequestFromFlags,
  type LayerEncodingFlags,
  layerEncodingFromFlags,
  parseFormat,
} from '../util/layer-flags.js';

interface LayerFlags extends LayerEncodingFlags {
  add?: string[];
  addDir?: string[];
  symlink?: string[];
  emptyFile?: string[];
  whiteout?: string[];
  opaque?: string[];
  fileMetadata?: string[];
  defaultMetadata?: string;
  createParentDirectories?: boolean;
  format: string;
  estargz?: boolean;
  prioritizedFiles?: string;
  metadata: string;
}

const FORMATS = ['gzip', 'zstd', 'none'] as const;

/** The layer-writer entries the flags describe, in flag order (the writer sorts them). */
function entriesFromFlags(flags: LayerFlags): LayerEntry[] {
  const entries: LayerEntry[] = [];
  for (const v of flags.add ?? []) {
    const [path, source] = splitPair(v, '--add');
    entries.push({ type: 'file', path, source });
  }
  for (const v of flags.addDir ?? []) {
    const [path, source] = splitPair(v, '--add-dir');
    entries.push({ type: 'directory', path, source });
  }
  for (const v of flags.symlink ?? []) {
    const [path, target] = splitPair(v, '--symlink');
    entries.push({ type: 'symlink', path, target });
  }
  for (const path of flags.emptyFile ?? []) entries.push({ type: 'content', path, content: '' });
  for (const path of flags.whiteout ?? []) entries.push({ type: 'whiteout', path });
  for (const path of flags.opaque ?? []) entries.push({ type: 'opaque', path });
  return entries;
}

/** The layer request `img layer`'s flags describe. */
async function layerRequestFromFlags(flags: LayerFlags, io: Io): Promise<LayerRequest> {
  const format = parseFormat(flags.format, FORMATS);
  const encoding = layerEncodingFromFlags(flags, format, { createdBy: 'img layer', withEpoch: true });
  if (format === 'gzip') warnIfGzipNotReference(io, encoding.level);
  const fileMetadata: Record<string, FileMetadata> = {};
  for (const v of flags.fileMetadata ?? []) {
    const [path, json] = splitPair(v, '--file-metadata');
    fileMetadata[path] = parseJsonFlag(json, `--file-metadata ${path}`) as FileMetadata;
  }
  const estargzOnly = flags.prioritizedFiles || flags.estargzChunkSize || flags.zstdChunked;
  if (estargzOnly && !flags.estargz) {
    throw new CliError(
      'IMG_CLI_USAGE',
      '--prioritized-files, --estargz-chunk-size and --zstd-chunked need --estargz',
    );
  }
  return {
    ...encoding,
    ...(flags.estargz ? { estargz: await estargzRequestFromFlags(flags) } : {}),
    entries: entriesFromFlags(flags),
    ...(flags.defaultMetadata
      ? { defaultMetadata: parseJsonFlag(flags.defaultMetadata, '--default-metadata') as FileMetadata }
      : {}),
    fileMetadata,
    ...(flags.createParentDirectories ? { createParentDirectories: true } : {}),
  };
}

async function runLayer(out: string, flags: LayerFlags, io: Io): Promise<void> {
  const metadata = await writeRequestedLayer(await layerRequestFromFlags(flags, io), out);
  await removeIfFails(out, () => writeLayerMetadata(flags.metadata, metadata));
  io.out(metadata.digest);
}

export function registerLayer(program: Command, io: Io): void {
  program
    .command('layer')
    .description('write one deterministic layer blob and its metadata JSON in a single pass')
    .argument('<out-blob>', 'where to write the layer blob')
    .option('--add <path=file>', 'add a host file at a path in the image (repeatable)', collect)
    .option('--add-dir <path=dir>', 'add a host directory tree at a path (repeatable)', collect)
    .option('--symlink <path=target>', 'add a symlink; the target is kept verbatim (repeatable)', collect)
    .option('--empty-file <path>', 'add an empty regular file (repeatable)', collect)
    .option('--whiteout <path>', 'delete a path of a lower layer (repeatable)', collect)
    .option('--opaque <dir>', 'hide everything below a directory of lower layers (repeatable)', collect)
    .option(
      '--file-metadata <path=json>',
      'metadata for one path: {"mode":"0755","uid":0,...} (repeatable)',
      collect,
    )
    .option('--default-metadata <json>', 'metadata for every entry without its own')
    .option('--create-parent-directories', 'write entries for parent directories (default: omitted)')
    .option('--format <format>', 'gzip | zstd | none', 'gzip')
    .option('--compression-level <n>', 'gzip 0-9 (default 6), zstd 1-19 (default 3)')
    .option(
      '--compressor-jobs <n|nproc>',
      'compress on N worker threads; gzip then writes 1 MiB blocks (same bytes for every N, not the default single stream); with --estargz: members compressed at once (bytes unchanged)',
    )
    .option('--annotation <K=V>', 'layer descriptor annotation (repeatable)', collect)
    .option('--created-by <text>', 'history created_by of this layer', undefined)
    .option('--media-type <type>', 'override the layer media type')
    .option('--estargz', 'write an eStargz layer (zstd:chunked with --format zstd) for lazy pulling')
    .option('--prioritized-files <file>', 'with --estargz: paths to put first for prefetch, one per line')
    .option('--estargz-chunk-size <bytes>', 'with --estargz: split files larger than this (default 4 MiB)')
    .option(
      '--zstd-chunked <layout>',
      'with --estargz --format zstd: containers-storage (default; podman, CRI-O) or stargz-snapshotter',
    )
    .requiredOption('--metadata <out.json>', 'where to write the layer metadata JSON')
    .addHelpText(
      'after',
      '\nSOURCE_DATE_EPOCH sets the mtime of entries without explicit metadata (default 0).',
    )
    .action(async (out: string, flags: LayerFlags) => runLayer(out, flags, io));
}
