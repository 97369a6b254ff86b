import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { createDecompressor, type TarEntryInfo, TarParser } from '@img/layer-writer/internal';
import type { Descriptor } from '@img/oci-spec';
import { CliError } from '../util/errors.js';

/** Entries of all layers together above this count fail (a listing is kept in memory). */
export const MAX_FILESYSTEM_ENTRIES = 2_000_000;
/** fileContentTests read at most this many bytes of a file. */
export const MAX_FILE_CONTENT_BYTES = 16 * 1024 * 1024;
/** Symlinks followed when resolving a path. */
const MAX_SYMLINKS = 40;

/** A layer blob that can be read (from a layout, or streamed from a registry). */
export interface LayerBlob {
  readonly descriptor: Descriptor;
  open(): Promise<Readable>;
}

export interface FsEntry {
  readonly type: TarEntryInfo['type'];
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly linkname: string;
  /** Index of the layer that wrote it; -1 for a directory only implied by its children. */
  readonly layer: number;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Canonical form of an image path: no leading `/` or `./`, no trailing `/`; "" is the root. */
export function canonicalPath(p: string): string {
  const n = posix.normalize(`/${p}`).replace(/\/+$/, '');
  return n.slice(1);
}

function compressionOf(mediaType: string): 'gzip' | 'zstd' | 'none' {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  return 'none';
}

/** Stream a layer's tar entries through `handlers` (decompressed on the way). */
export async function walkLayer(
  blob: LayerBlob,
  onEntry: (entry: TarEntryInfo) => void,
  onData?: (bytes: Buffer) => void,
): Promise<void> {
  const input = await blob.open();
  const format = compressionOf(blob.descriptor.mediaType);
  const stream = format === 'none' ? input : input.pipe(createDecompressor(format));
  if (format !== 'none') input.on('error', (err) => stream.destroy(err));
  const parser = new TarParser({ onEntry, ...(onData ? { onData } : {}) });
  try {
    for await (const chunk of stream) parser.push(chunk as Buffer);
    parser.end();
  } catch (err) {
    input.destroy();
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `layer ${blob.descriptor.digest}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** The image's filesystem after applying every layer (whiteouts and opaque directories included). */
export class ImageFilesystem {
  readonly entries = new Map<string, FsEntry>();

  private constructor(readonly layers: readonly LayerBlob[]) {}

  static async read(layers: readonly LayerBlob[]): Promise<ImageFilesystem> {
    const fs = new ImageFilesystem(layers);
    for (const [i, layer] of layers.entries()) await fs.#apply(i, layer);
    return fs;
  }

  #removeBelow(path: string, layer: number, includeSelf: boolean): void {
    const prefix = path === '' ? '' : `${path}/`;
    for (const [p, e] of this.entries) {
      if (e.layer >= layer && e.layer !== -1) continue;
      if ((includeSelf && p === path) || p.startsWith(prefix)) {
        if (p !== '') this.entries.delete(p);
      }
    }
  }

  async #apply(index: number, blob: LayerBlob): Promise<void> {
    const whiteouts: Array<[string, boolean]> = [];
    const own: Array<[string, FsEntry]> = [];
    await walkLayer(blob, (info) => {
      const path = canonicalPath(info.name);
      const base = posix.basename(path);
      if (base === OPAQUE) {
        whiteouts.push([posix.dirname(path) === '.' ? '' : posix.dirname(path), true]);
        return;
      }
      if (base.startsWith(WHITEOUT)) {
        const dir = posix.dirname(path);
        whiteouts.push([(dir === '.' ? '' : `${dir}/`) + base.slice(WHITEOUT.length), false]);
        return;
      }
      if (path === '') return;
      own.push([
        path,
        {
          type: info.type,
          mode: info.mode,
          uid: info.uid,
          gid: info.gid,
          size: info.size,
          linkname: info.linkname,
          layer: index,
        },
      ]);
      if (this.entries.size + own.length > MAX_FILESYSTEM_ENTRIES) {
        throw new CliError(
          'IMG_CLI_INVALID_INPUT',
          `the image has more than ${MAX_FILESYSTEM_ENTRIES} entries`,
        );
      }
    });
    // Whiteouts hide what lower layers have; then this layer's entries go on top.
    for (const [path, opaque] of whiteouts) this.#removeBelow(path, index, !opaque);
    for (const [path, entry] of own) {
      if (entry.type !== 'directory') this.#removeBelow(path, index, false);
      this.entries.set(path, entry);
      for (let dir = posix.dirname(path); dir !== '.' && !this.entries.has(dir); dir = posix.dirname(dir)) {
        this.entries.set(dir, {
          type: 'directory',
          mode: 0o755,
          uid: 0,
          gid: 0,
          size: 0,
          linkname: '',
          layer: -1,
        });
      }
    }
  }

  /** The entry at `path`, following symlinks in every component when `follow` (as a container would). */
  resolve(path: string, follow: boolean): { path: string; entry: FsEntry } | undefined {
    let parts = canonicalPath(path).split('/').filter(Boolean);
    let hops = 0;
    let current = '';
    while (parts.length > 0) {
      const next = current === '' ? parts[0]! : `${current}/${parts[0]}`;
      const entry = this.entries.get(next);
      if (!entry) return undefined;
      const last = parts.length === 1;
      if (entry.type === 'symlink' && (follow || !last)) {
        if (++hops > MAX_SYMLINKS) return undefined;
        const target = entry.linkname.startsWith('/') ? entry.linkname : `${current}/${entry.linkname}`;
        parts = [...canonicalPath(target).split('/').filter(Boolean), ...parts.slice(1)];
        current = '';
        continue;
      }
      current = next;
      parts = parts.slice(1);
    }
    const entry = current === '' ? undefined : this.entries.get(current);
    return entry ? { path: current, entry } : undefined;
  }

  /** A regular file's bytes (at most MAX_FILE_CONTENT_BYTES), read again from its layer. */
  async readFile(path: string): Promise<Buffer> {
    const found = this.resolve(path, true);
    if (!found) throw new Error(`${path} does not exist`);
    let { entry, path: at } = found;
    if (entry.type === 'hardlink') at = canonicalPath(entry.linkname);
    else if (entry.type !== 'file') throw new Error(`${path} is a ${entry.type}, not a file`);
    if (entry.type === 'file' && entry.size > MAX_FILE_CONTENT_BYTES) {
      throw new Error(
        `${path} is ${entry.size} bytes, more than ${MAX_FILE_CONTENT_BYTES} read for content tests`,
      );
    }
    const chunks: Buffer[] = [];
    let current = false;
    let size = 0;
    await walkLayer(
      this.layers[entry.layer]!,
      (info) => {
        current = info.type === 'file' && canonicalPath(info.name) === at;
      },
      (bytes) => {
        if (!current) return;
        size += bytes.length;
        if (size > MAX_FILE_CONTENT_BYTES)
          throw new Error(`${path}: more than ${MAX_FILE_CONTENT_BYTES} bytes`);
        chunks.push(Buffer.from(bytes));
      },
    );
    return Buffer.concat(chunks);
  }
}
