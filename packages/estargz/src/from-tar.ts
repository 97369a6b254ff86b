import {
  LayerError,
  type LayerOutputOptions,
  type LayerWriteResult,
  type TarInputLimits,
  writeResultToFile,
} from '@img/layer-writer';
import {
  detectFileCompression,
  normalizeEntryName,
  openTarStream,
  TarParser,
  type TarWriter,
  writePlannedEntries,
} from '@img/layer-writer/internal';
import type { LayerMetadata } from '@img/oci-spec';
import type { ZstdChunkedVariant } from './codec.js';
import { NO_PREFETCH_LANDMARK } from './constants.js';
import { EstargzError } from './errors.js';
import { landmark, RESERVED_NAMES } from './order.js';
import { assembleLayer, resolveOptions } from './write.js';

/**
 * Options of `estargzFromTar`: compression, level, jobs, media type, annotations, history, chunking,
 * and the caps on the input tar (TarInputLimits, each defaulting to its DEFAULT_* constant).
 */
export interface EstargzFromTarOptions extends LayerOutputOptions, TarInputLimits {
  /** Files larger than this are split into chunks of this size. Default 4 MiB. */
  readonly chunkSize?: number;
  /** As for writeEstargzLayer; default 0 (one member per payload). */
  readonly minChunkSize?: number;
  /** As for writeEstargzLayer (compression 'zstd'). */
  readonly zstdChunkedVariant?: ZstdChunkedVariant;
}

const BLOCK = 512;
const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/**
 * Convert an existing tar (.tar, .tar.gz or .tar.zst) to an eStargz layer (zstd:chunked with
 * `compression: 'zstd'`), as stargz-snapshotter's `estargz.Build` does without prioritized files:
 * `.no.prefetch.landmark` first, then the tar's entries in their order with their headers unchanged,
 * each payload in its own member, the TOC and footer last. The archive-end blocks (and anything after
 * them) are replaced by eStargz's own. Entry names escaping the root, names reserved by eStargz and
 * hardlinks whose target is not an earlier entry are rejected, naming the tar and the entry: the
 * result always passes `EstargzReader.verify`. Same result shape as `writeEstargzLayer`.
 */
export function estargzFromTar(tarPath: string, options: EstargzFromTarOptions = {}): LayerWriteResult {
  return assembleLayer(resolveOptions(options), options, async (writer) => {
    await writePlannedEntries(writer, [landmark(NO_PREFETCH_LANDMARK)], { deduplicate: false });
    await copyEntries(tarPath, writer, options);
  });
}

/**
 * The tar's bytes up to the end of its last entry (header and padded data): the archive end and
 * whatever follows it are never copied. Names are checked as the parser meets them.
 */
async function copyEntries(tarPath: string, writer: TarWriter, limits: TarInputLimits): Promise<void> {
  const format = await detectFileCompression(tarPath);
  let entriesEnd = 0;
  let sent = 0;
  /** Names written so far that a hardlink may point at (everything but directories). */
  const linkable = new Set<string>();
  const parser = new TarParser(
    {
      onEntry(entry) {
        const where = `${tarPath}: entry ${JSON.stringify(entry.name)}`;
        const path = normalizeEntryName(entry.name, where);
        if (RESERVED_NAMES.has(path)) {
          throw new EstargzError(
            'IMG_ESTARGZ_RESERVED_PATH',
            `${where}: the name is reserved in eStargz layers (landmark or TOC name)`,
          );
        }
        if (entry.type === 'hardlink') {
          const target = normalizeEntryName(entry.linkname, `${where} link target`);
          if (!linkable.has(target)) {
            throw new LayerError(
              'IMG_LAYER_INVALID_TAR',
              `${where}: hardlink target ${JSON.stringify(entry.linkname)} is not an earlier file in the tar`,
            );
          }
        }
        if (entry.type !== 'directory') linkable.add(path);
        entriesEnd = entry.dataOffset + (entry.type === 'file' ? padded(entry.size) : 0);
      },
    },
    limits,
  );
  let held: Buffer[] = [];
  let streamPos = 0;
  try {
    for await (const chunk of openTarStream(tarPath, format, limits)) {
      const bytes = chunk as Buffer;
      parser.push(bytes);
      held.push(bytes);
      streamPos += bytes.length;
      if (entriesEnd <= sent) continue;
      const all = held.length === 1 ? held[0]! : Buffer.concat(held);
      const upto = Math.min(entriesEnd, streamPos) - sent;
      await writer.write(all.subarray(0, upto));
      sent += upto;
      held = upto < all.length ? [all.subarray(upto)] : [];
    }
    parser.end();
  } catch (err) {
    if (err instanceof LayerError && !err.message.startsWith(tarPath)) {
      throw new LayerError(err.code, `${tarPath}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** estargzFromTar into `blobPath` (temp file + rename; nothing is left behind on error). */
export async function estargzFromTarToFile(
  tarPath: string,
  blobPath: string,
  options: EstargzFromTarOptions = {},
): Promise<LayerMetadata> {
  return await writeResultToFile(estargzFromTar(tarPath, options), blobPath, options);
}
