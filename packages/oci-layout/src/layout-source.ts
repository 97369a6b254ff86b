import { createReadStream } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobSource, Descriptor } from '@img/oci-spec';
import { blobPath, layoutBlobSource, READ_CHUNK, readRegularFile, regularFileSize } from './blob-file.js';
import { LayoutError } from './errors.js';

/** Members of a layout archive indexed at most (a layout holds a few files per layer). */
export const DEFAULT_MAX_ARCHIVE_MEMBERS = 100_000;
/** Size of a PAX or GNU long-name header in a layout archive: a path, not a payload. */
const MAX_EXTENDED_HEADER_BYTES = 64 * 1024;

/** Read access to the files of a layout, whether a directory or a tar archive. */
export interface LayoutSource {
  /** What the layout is, for error messages (`oci:DIR` or `oci-archive:FILE`). */
  readonly name: string;
  /** A whole file (a document) of at most `maxBytes`, or undefined when absent. */
  readFile(name: string, maxBytes: number): Promise<Buffer | undefined>;
  /** The size of a file, or undefined when absent. */
  size(name: string): Promise<number | undefined>;
  /** An opener of a blob the layout holds (call after `size` found it). */
  blobSource(descriptor: Descriptor): BlobSource;
}

/** Only names the reader builds itself: fixed files and `blobs/<alg>/<hex>` of parsed digests. */
function checkName(name: string): void {
  if (name.startsWith('/') || name.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new LayoutError('IMG_LAYOUT_INVALID', `${JSON.stringify(name)}: not a layout member name`);
  }
}

export class DirectorySource implements LayoutSource {
  readonly name: string;
  readonly #root: string;
  readonly #checkedDirs = new Map<string, Promise<void>>();
  readonly #follow: boolean;

  /**
   * `followSymlinks`: a layout the user trusts whose files are symlinks (Bazel's runfiles and
   * sandboxes): symlinks are followed, but what they lead to must still be regular files.
   */
  constructor(root: string, options: { readonly followSymlinks?: boolean } = {}) {
    this.#root = root;
    this.name = `oci:${root}`;
    this.#follow = options.followSymlinks ?? false;
  }

  /** `blobs/` and `blobs/<alg>/` must be real directories: a symlinked one would lead out of the layout. */
  #checkDirs(name: string): Promise<void> {
    if (this.#follow) return Promise.resolve();
    const parts = name.split('/').slice(0, -1);
    const checks: Promise<void>[] = [];
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      let p = this.#checkedDirs.get(dir);
      if (!p) {
        p = lstat(join(this.#root, dir)).then(
          (st) => {
            if (!st.isDirectory())
              throw new LayoutError(
                'IMG_LAYOUT_INVALID',
                `${this.name}: ${dir} is not a directory (refused)`,
              );
          },
          (e: NodeJS.ErrnoException) => {
            if (e.code !== 'ENOENT') throw e;
          },
        );
        this.#checkedDirs.set(dir, p);
      }
      checks.push(p);
    }
    return Promise.all(checks).then(() => undefined);
  }

  async readFile(name: string, maxBytes: number): Promise<Buffer | undefined> {
    checkName(name);
    await this.#checkDirs(name);
    return readRegularFile(join(this.#root, name), maxBytes, this.#follow);
  }

  async size(name: string): Promise<number | undefined> {
    checkName(name);
    await this.#checkDirs(name);
    return regularFileSize(join(this.#root, name), this.#follow);
  }

  blobSource(descriptor: Descriptor): BlobSource {
    return layoutBlobSource(this.#root, descriptor, this.#follow);
  }
}

interface TarMember {
  readonly offset: number;
  readonly size: number;
}

function parseOctal(block: Buffer, start: number, len: number): number {
  const field = block.subarray(start, start + len);
  if (field[0]! & 0x80) {
    if (field[0]! & 0x40) return Number.NaN; // negative base-256
    let v = field[0]! & 0x3f;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    return v;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : Number.NaN;
}

function cstring(block: Buffer, start: number, len: number): string {
  const field = block.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function paxPath(data: Buffer): string | undefined {
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number.parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!(len > space - pos) || pos + len > data.length) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') return record.slice(eq + 1);
    pos += len;
  }
  return undefined;
}

/**
 * A layout inside a tar archive (oci-archive, docker-save). The member table is built by reading
 * only the 512-byte headers, seeking over the data, so opening a multi-GiB archive is cheap. Sizes
 * that are negative, not octal or past the end of the archive are refused, as are extended headers
 * over 64 KiB and more than DEFAULT_MAX_ARCHIVE_MEMBERS members.
 */
export class TarSource implements LayoutSource {
  readonly name: string;
  readonly #path: string;
  #members?: Promise<Map<string, TarMember>>;

  constructor(path: string) {
    this.#path = path;
    this.name = `oci-archive:${path}`;
  }

  #index(): Promise<Map<string, TarMember>> {
    this.#members ??= this.#readIndex();
    return this.#members;
  }

  async #readIndex(): Promise<Map<string, TarMember>> {
    const members = new Map<string, TarMember>();
    const bad = (why: string): never => {
      throw new LayoutError('IMG_LAYOUT_INVALID', `${this.name}: cannot read the archive: ${why}`);
    };
    const fh = await open(this.#path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) bad('not a regular file');
      const total = st.size;
      const block = Buffer.alloc(512);
      let pos = 0;
      let longName: string | undefined;
      let count = 0;
      while (pos + 512 <= total) {
        await fh.read(block, 0, 512, pos);
        if (block.every((b) => b === 0)) break;
        if (++count > DEFAULT_MAX_ARCHIVE_MEMBERS) bad(`more than ${DEFAULT_MAX_ARCHIVE_MEMBERS} members`);
        const size = parseOctal(block, 124, 12);
        const dataStart = pos + 512;
        if (!Number.isSafeInteger(size) || size < 0 || dataStart + size > total) {
          bad(
            `member at offset ${pos}: size field ${JSON.stringify(block.subarray(124, 136).toString('latin1'))} is invalid or runs past the end`,
          );
        }
        const type = String.fromCharCode(block[156] || 0x30);
        if (type === 'x' || type === 'L') {
          if (size > MAX_EXTENDED_HEADER_BYTES)
            bad(`member at offset ${pos}: a ${size}-byte extended header`);
          const data = Buffer.alloc(size);
          await fh.read(data, 0, size, dataStart);
          longName = type === 'x' ? paxPath(data) : cstring(data, 0, size);
        } else {
          const prefix = cstring(block, 345, 155);
          const base = cstring(block, 0, 100);
          const name = longName ?? (prefix ? `${prefix}/${base}` : base);
          longName = undefined;
          if (type === '0' || type === '\0' || type === '7') {
            members.set(name.replace(/^\.\//, ''), { offset: dataStart, size });
          }
        }
        pos = dataStart + Math.ceil(size / 512) * 512;
      }
    } catch (e) {
      if (e instanceof LayoutError) throw e;
      bad((e as Error).message);
    } finally {
      await fh.close();
    }
    return members;
  }

  async readFile(name: string, maxBytes: number): Promise<Buffer | undefined> {
    const m = (await this.#index()).get(name);
    if (!m) return undefined;
    if (m.size > maxBytes) {
      throw new LayoutError(
        'IMG_LAYOUT_INVALID',
        `${this.name}: ${name}: ${m.size} bytes, more than the limit of ${maxBytes}`,
      );
    }
    const fh = await open(this.#path, 'r');
    try {
      const buf = Buffer.alloc(m.size);
      await fh.read(buf, 0, m.size, m.offset);
      return buf;
    } finally {
      await fh.close();
    }
  }

  async size(name: string): Promise<number | undefined> {
    return (await this.#index()).get(name)?.size;
  }

  blobSource(descriptor: Descriptor): BlobSource {
    return this.memberSource(blobPath(descriptor.digest), descriptor);
  }

  /** An opener of any regular member (a docker-save archive's `<id>/layer.tar`) as `descriptor`'s bytes. */
  memberSource(name: string, descriptor: Descriptor): BlobSource {
    return {
      descriptor,
      open: async (options) => {
        const m = (await this.#index()).get(name);
        if (!m) throw new LayoutError('IMG_LAYOUT_BLOB_MISSING', `${this.name}: ${name} is missing`);
        const start = m.offset + Math.min(options?.offset ?? 0, m.size);
        if (start >= m.offset + m.size) return Readable.from([]);
        return createReadStream(this.#path, { start, end: m.offset + m.size - 1, highWaterMark: READ_CHUNK });
      },
    };
  }
}
