import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LayoutError } from './errors.js';

/**
 * Read size of blob streams. Node's 64 KiB default costs a read, a socket write and a trip through
 * the stream machinery per 64 KiB; 1 MiB reads halve the CPU of pushing or loading a layer.
 */
const READ_CHUNK = 1024 * 1024;

/** Read access to the files of a layout, whether a directory or a tar archive. */
export interface LayoutSource {
  /** What the layout is, for error messages (`oci:DIR` or `oci-archive:FILE`). */
  readonly name: string;
  readFile(name: string): Promise<Buffer | undefined>;
  openFile(name: string): Promise<Readable | undefined>;
  size(name: string): Promise<number | undefined>;
}

export class DirectorySource implements LayoutSource {
  readonly name: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.name = `oci:${root}`;
  }

  async readFile(name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.#root, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async openFile(name: string): Promise<Readable | undefined> {
    return (await this.size(name)) === undefined
      ? undefined
      : createReadStream(join(this.#root, name), { highWaterMark: READ_CHUNK });
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const s = await stat(join(this.#root, name));
      return s.isFile() ? s.size : undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
}

interface TarMember {
  readonly offset: number;
  readonly size: number;
}

function parseOctal(block: Buffer, start: number, len: number): number {
  const field = block.subarray(start, start + len);
  if (field[0]! & 0x80) {
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    return v;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
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
    if (!(len > 0)) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') return record.slice(eq + 1);
    pos += len;
  }
  return undefined;
}

/**
 * A layout inside a tar archive (oci-archive, docker-save). The member table is built by reading
 * only the 512-byte headers, seeking over the data, so opening a multi-GiB archive is cheap.
 */
export class TarSource implements LayoutSource {
  readonly name: string;
  readonly #path: string;
  #members?: Map<string, TarMember>;

  constructor(path: string) {
    this.#path = path;
    this.name = `oci-archive:${path}`;
  }

  async #index(): Promise<Map<string, TarMember>> {
    if (this.#members) return this.#members;
    const members = new Map<string, TarMember>();
    const fh = await open(this.#path, 'r');
    try {
      const total = (await fh.stat()).size;
      const block = Buffer.alloc(512);
      let pos = 0;
      let longName: string | undefined;
      while (pos + 512 <= total) {
        await fh.read(block, 0, 512, pos);
        if (block.every((b) => b === 0)) break;
        const size = parseOctal(block, 124, 12);
        const type = String.fromCharCode(block[156] || 0x30);
        const dataStart = pos + 512;
        const next = dataStart + Math.ceil(size / 512) * 512;
        if (type === 'x' || type === 'L') {
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
        pos = next;
      }
    } catch (e) {
      throw new LayoutError(
        'IMG_LAYOUT_INVALID',
        `${this.name}: cannot read the archive: ${(e as Error).message}`,
        { cause: e },
      );
    } finally {
      await fh.close();
    }
    this.#members = members;
    return members;
  }

  async readFile(name: string): Promise<Buffer | undefined> {
    const m = (await this.#index()).get(name);
    if (!m) return undefined;
    const fh = await open(this.#path, 'r');
    try {
      const buf = Buffer.alloc(m.size);
      await fh.read(buf, 0, m.size, m.offset);
      return buf;
    } finally {
      await fh.close();
    }
  }

  async openFile(name: string): Promise<Readable | undefined> {
    const m = (await this.#index()).get(name);
    if (!m) return undefined;
    if (m.size === 0) return (await import('node:stream')).Readable.from([]);
    return createReadStream(this.#path, {
      start: m.offset,
      end: m.offset + m.size - 1,
      highWaterMark: READ_CHUNK,
    });
  }

  async size(name: string): Promise<number | undefined> {
    return (await this.#index()).get(name)?.size;
  }
}
