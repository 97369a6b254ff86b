import { createHash, type Hash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { LayerError } from './errors.js';
import type { TarInputLimits } from './limits.js';
import { metadataKey } from './metadata.js';
import { normalizeEntryName, pathSortKey } from './paths.js';
import type { TarEntryType, TarHeader } from './tar-header.js';
import { detectFileCompression, openTarStream } from './tar-input.js';
import { type TarEntryInfo, TarParser } from './tar-reader.js';
import { type ChunkSink, TarWriter } from './tar-writer.js';

export interface RewriteOptions {
  readonly baseMtime: number;
  readonly deduplicate: boolean;
  readonly tempDir: string;
  /** Caps on the input (each defaults to its DEFAULT_* constant). */
  readonly limits?: TarInputLimits;
}

/** Where a regular file's data sits in the uncompressed input, and its sha256. */
interface Content {
  readonly offset: number;
  readonly size: number;
  hash: string;
}

interface Rec {
  readonly path: string;
  readonly type: Exclude<TarEntryType, 'hardlink'>;
  readonly header: Omit<TarHeader, 'name' | 'type'>;
  readonly content?: Content;
  readonly key: string;
}

/**
 * PAX records kept by a rewrite: extended attributes, byte-exact (binary values included). Everything
 * else (atime, ctime, comments) goes.
 */
function keptPax(e: TarEntryInfo): Record<string, string | Uint8Array> {
  const out: Record<string, string | Uint8Array> = Object.create(null);
  for (const records of [e.paxRecords, e.binaryPaxRecords ?? {}]) {
    for (const [k, v] of Object.entries(records)) if (k.startsWith('SCHILY.xattr.')) out[k] = v;
  }
  return out;
}

/**
 * Read a tar (any supported compression), normalise it by the determinism rules and write it to `sink`:
 * entries sorted by path components, names normalised, mtime = baseMtime, uname/gname cleared,
 * mode/uid/gid/xattrs/device numbers kept, hardlinks re-targeted at the first copy in the new order,
 * identical files deduplicated. A compressed input is decompressed once into a temp file under
 * `tempDir` (so data can be copied in the new order) and removed afterwards.
 */
export async function rewriteTar(inputPath: string, sink: ChunkSink, options: RewriteOptions): Promise<void> {
  const format = await detectFileCompression(inputPath);
  const byPath = new Map<string, Rec>();
  let pending: { content: Content; hash: Hash } | undefined;
  const finishPending = () => {
    if (pending) pending.content.hash = pending.hash.digest('hex');
    pending = undefined;
  };
  const where = (e: TarEntryInfo) => `${inputPath}: entry ${JSON.stringify(e.name)}`;

  const parser = new TarParser(
    {
      onEntry(e) {
        finishPending();
        const path = normalizeEntryName(e.name, where(e));
        if (path === '') return;
        const header = {
          mode: e.mode,
          uid: e.uid,
          gid: e.gid,
          mtime: options.baseMtime,
          devmajor: e.type === 'char' || e.type === 'block' ? e.devmajor : 0,
          devminor: e.type === 'char' || e.type === 'block' ? e.devminor : 0,
          paxRecords: keptPax(e),
        };
        const key = pathSortKey(path);
        if (e.type === 'hardlink') {
          const targetPath = normalizeEntryName(e.linkname, `${where(e)} link target`);
          const target = byPath.get(targetPath);
          if (target?.type !== 'file' || target.content === undefined) {
            throw new LayerError(
              'IMG_LAYER_INVALID_TAR',
              `${where(e)}: hardlink target ${JSON.stringify(e.linkname)} is not an earlier regular file`,
            );
          }
          byPath.set(path, { path, type: 'file', header, content: target.content, key });
          return;
        }
        if (e.type === 'file') {
          const content: Content = { offset: e.dataOffset, size: e.size, hash: '' };
          pending = { content, hash: createHash('sha256') };
          byPath.set(path, { path, type: 'file', header, content, key });
          return;
        }
        if (e.type === 'symlink') {
          byPath.set(path, { path, type: 'symlink', header: { ...header, linkname: e.linkname }, key });
          return;
        }
        byPath.set(path, { path, type: e.type, header, key });
      },
      onData(bytes) {
        pending!.hash.update(bytes);
      },
    },
    options.limits,
  );

  let dataPath = inputPath;
  let spill: string | undefined;
  try {
    const tar = openTarStream(inputPath, format, options.limits);
    if (format === 'none') {
      for await (const chunk of tar) parser.push(chunk as Buffer);
    } else {
      spill = join(options.tempDir, `.img-layer-${process.pid}-${randomBytes(6).toString('hex')}.tar`);
      dataPath = spill;
      const out = createWriteStream(spill);
      const closed = finished(out);
      closed.catch(() => {});
      try {
        for await (const chunk of tar) {
          parser.push(chunk as Buffer);
          if (!out.write(chunk)) await once(out, 'drain');
        }
      } finally {
        out.end();
        await closed;
      }
    }
    parser.end();
    finishPending();
    await writeRecords(dataPath, [...byPath.values()], sink, options.deduplicate);
  } catch (err) {
    if (err instanceof LayerError && !err.message.startsWith(inputPath)) {
      throw new LayerError(err.code, `${inputPath}: ${err.message}`, { cause: err });
    }
    throw err;
  } finally {
    if (spill) await unlink(spill).catch(() => {});
  }
}

async function writeRecords(
  dataPath: string,
  recs: Rec[],
  sink: ChunkSink,
  deduplicate: boolean,
): Promise<void> {
  recs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const firstCopy = new Map<string, string>();
  const writer = new TarWriter(sink);
  const fh = await open(dataPath, 'r');
  try {
    for (const rec of recs) {
      const name = rec.type === 'directory' ? `${rec.path}/` : rec.path;
      if (rec.type !== 'file') {
        await writer.writeEntry({ ...rec.header, name, type: rec.type });
        continue;
      }
      const content = rec.content!;
      const header: TarHeader = { ...rec.header, name, type: 'file', size: content.size };
      if (deduplicate && content.size > 0) {
        const key = `${content.hash}\0${content.size}\0${metadataKey({ uname: '', gname: '', ...rec.header, paxRecords: rec.header.paxRecords ?? {} })}`;
        const earlier = firstCopy.get(key);
        if (earlier !== undefined) {
          await writer.writeEntry({ ...header, type: 'hardlink', size: 0, linkname: earlier });
          continue;
        }
        firstCopy.set(key, name);
      }
      await writer.writeFileEntry(header, dataPath, { fd: fh.fd, offset: content.offset });
    }
    await writer.finish();
  } finally {
    await fh.close();
  }
}
