import { writeLayerMetadata } from '@img/layer-writer';
import type { LayerCompression } from '@img/oci-spec';
import type { Command } from 'commander';
import { detectTarCompression, writeTarLayer } from '../image/tar-layer.js';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { removeIfFails } from '../util/files.js';
import { collect } from '../util/flags.js';
import {
  estargzRequestFromFlags,
  type LayerEncodingFlags,
  layerEncodingFromFlags,
  parseFormat,
} from '../util/layer-flags.js';
import { limitHelp, parseLimits } from '../util/limits.js';

interface LayerFromTarFlags extends LayerEncodingFlags {
  output?: string;
  format: string;
  metadata: string;
  rewrite?: boolean;
  estargz?: boolean;
  limit?: string[];
}

const FORMATS = ['keep', 'gzip', 'zstd', 'none'] as const;

async function runLayerFromTar(src: string, flags: LayerFromTarFlags, io: Io): Promise<void> {
  const format = parseFormat(flags.format, FORMATS);
  const limits = parseLimits(flags.limit);
  const source = await detectTarCompression(src);
  let target: LayerCompression = format === 'keep' ? source : format;
  // eStargz layers are compressed: keep means the source's compression, gzip for a plain tar.
  if (flags.estargz && format === 'keep' && source === 'none') target = 'gzip';
  if (!flags.estargz && (flags.estargzChunkSize !== undefined || flags.zstdChunked !== undefined)) {
    throw new CliError('IMG_CLI_USAGE', '--estargz-chunk-size and --zstd-chunked need --estargz');
  }
  const estargz = flags.estargz ? await estargzRequestFromFlags(flags) : undefined;
  const encoding = layerEncodingFromFlags(flags, target, {
    createdBy: 'img layer-from-tar',
    withEpoch: flags.rewrite === true,
    ...(estargz ? { estargz } : {}),
  });
  const metadata = await writeTarLayer({
    source: src,
    sourceCompression: source,
    encoding,
    rewrite: flags.rewrite === true,
    limits,
    ...(flags.output ? { output: flags.output } : {}),
  });
  await removeIfFails(flags.output, () => writeLayerMetadata(flags.metadata, metadata));
  io.out(metadata.digest);
}

export function registerLayerFromTar(program: Command, io: Io): void {
  program
    .command('layer-from-tar')
    .description('layer metadata for an existing tar (.tar, .tar.gz, .tar.zst), recompressing it if asked')
    .argument('<tar>', 'the tar file, uncompressed, gzip or zstd')
    .option(
      '--format <format>',
      'keep (the source compression; without --output the tar itself is the blob) | gzip | zstd | none',
      'keep',
    )
    .option('--output <blob>', 'where to write the blob (a copy when the compression does not change)')
    .option('--compression-level <n>', 'gzip 0-9, zstd 1-19')
    .option(
      '--compressor-jobs <n|nproc>',
      'compress on N worker threads (gzip: 1 MiB blocks, the same bytes for every N)',
    )
    .option('--annotation <K=V>', 'layer descriptor annotation (repeatable)', collect)
    .option('--created-by <text>', 'history created_by of this layer')
    .option('--media-type <type>', 'override the layer media type')
    .option(
      '--rewrite',
      'write the tar again under the determinism rules (sorted, normalised metadata, identical files hardlinked; mtime 0 or SOURCE_DATE_EPOCH); needs --output',
    )
    .option(
      '--estargz',
      'convert to eStargz (zstd:chunked with --format zstd) for lazy pulling; needs --output',
    )
    .option('--estargz-chunk-size <bytes>', 'with --estargz: split files larger than this (default 4 MiB)')
    .option(
      '--zstd-chunked <layout>',
      'with --estargz --format zstd: containers-storage (default) or stargz-snapshotter',
    )
    .option('--limit <name=value>', limitHelp(), collect)
    .requiredOption('--metadata <out.json>', 'where to write the layer metadata JSON')
    .action(async (src: string, flags: LayerFromTarFlags) => runLayerFromTar(src, flags, io));
}
