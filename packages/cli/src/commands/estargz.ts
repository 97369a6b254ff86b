import { writeFileAtomic } from '@img/atomic-write';
import { type EstargzEntry, openEstargz, TOC_DIGEST_ANNOTATION, TOC_SIZE_LIMIT_NAME } from '@img/estargz';
import { parseLayerMetadata } from '@img/oci-spec';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { readInput } from '../util/files.js';
import { collect } from '../util/flags.js';
import { limitHelp, parseLimits } from '../util/limits.js';

const TOC_LIMIT = { maxTocSize: TOC_SIZE_LIMIT_NAME };

async function expectedTocDigest(flags: { tocDigest?: string; metadata?: string }): Promise<string> {
  if (flags.tocDigest !== undefined && flags.metadata !== undefined) {
    throw new CliError('IMG_CLI_USAGE', 'give either --toc-digest or --metadata, not both');
  }
  if (flags.tocDigest !== undefined) {
    if (!/^sha256:[0-9a-f]{64}$/.test(flags.tocDigest)) {
      throw new CliError(
        'IMG_CLI_USAGE',
        `--toc-digest ${JSON.stringify(flags.tocDigest)}: expected sha256:<64 hex>`,
      );
    }
    return flags.tocDigest;
  }
  if (flags.metadata === undefined) {
    throw new CliError(
      'IMG_CLI_USAGE',
      `--toc-digest (or --metadata with a ${TOC_DIGEST_ANNOTATION} annotation) is required`,
    );
  }
  const meta = parseLayerMetadata(await readInput(flags.metadata, 'layer metadata'), flags.metadata);
  const digest = meta.annotations?.[TOC_DIGEST_ANNOTATION];
  if (digest === undefined) {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `${flags.metadata}: annotations: no ${TOC_DIGEST_ANNOTATION}`,
    );
  }
  return digest;
}

function listLine(e: EstargzEntry): string {
  const link = e.linkName !== undefined ? ` -> ${e.linkName}` : '';
  const chunks = e.chunks.length > 1 ? ` (${e.chunks.length} chunks)` : '';
  const mode = e.mode.toString(8).padStart(4, '0');
  return `${e.type.padEnd(8)} ${mode} ${`${e.uid}:${e.gid}`.padEnd(9)} ${String(e.size).padStart(12)} ${e.name}${link}${chunks}`;
}

export function registerEstargz(program: Command, io: Io): void {
  const estargz = program
    .command('estargz')
    .description('read and verify eStargz / zstd:chunked layer blobs');
  estargz
    .command('verify')
    .description('check the TOC digest, then every chunk and file against the TOC (reads each at its offset)')
    .argument('<blob>', 'layer blob')
    .option(
      '--toc-digest <digest>',
      'expected TOC digest (the containerd.io/snapshot/stargz/toc.digest annotation)',
    )
    .option('--metadata <layer.json>', 'take the expected TOC digest from this layer metadata file')
    .option('--limit <name=value>', limitHelp(TOC_LIMIT), collect)
    .action(async (blob: string, flags: { tocDigest?: string; metadata?: string; limit?: string[] }) => {
      const expected = await expectedTocDigest(flags);
      const reader = await openEstargz(blob, parseLimits(flags.limit, TOC_LIMIT));
      const r = await reader.verify(expected);
      io.out(
        `OK ${blob}: ${reader.format}, TOC ${r.tocDigest}, ${r.entries} entries, ${r.files} files, ${r.chunks} chunks, ${r.bytes} bytes verified`,
      );
    });
  estargz
    .command('ls')
    .description('list the TOC: type, mode, uid:gid, size, path')
    .argument('<blob>', 'layer blob')
    .option('--json', 'print the format, TOC digest and raw TOC entries as JSON')
    .option('--limit <name=value>', limitHelp(TOC_LIMIT), collect)
    .action(async (blob: string, flags: { json?: boolean; limit?: string[] }) => {
      const reader = await openEstargz(blob, parseLimits(flags.limit, TOC_LIMIT));
      if (flags.json) {
        io.out(
          JSON.stringify(
            { format: reader.format, tocDigest: reader.tocDigest, entries: reader.toc.entries },
            null,
            2,
          ),
        );
        return;
      }
      for (const e of reader.entries()) io.out(listLine(e));
    });
  estargz
    .command('extract')
    .description('write one file of the blob, read by seeking to its chunks and checked against the TOC')
    .argument('<blob>', 'layer blob')
    .argument('<path>', 'path of the file in the layer')
    .requiredOption('--output <file>', 'where to write it')
    .option('--limit <name=value>', limitHelp(TOC_LIMIT), collect)
    .action(async (blob: string, path: string, flags: { output: string; limit?: string[] }) => {
      const reader = await openEstargz(blob, parseLimits(flags.limit, TOC_LIMIT));
      await writeFileAtomic(flags.output, reader.openFile(path));
    });
}
