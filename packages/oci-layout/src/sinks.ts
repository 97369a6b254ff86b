import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encodeTarHeader } from '@img/layer-writer';

/** Where the files of a layout or archive go: a directory, or entries of a tar file. */
export interface FileSink {
  /** Add a regular file; `data` is bytes or a stream of exactly `size` bytes. */
  addFile(name: string, size: number, data: Uint8Array | Readable): Promise<void>;
  /**
   * Add a regular file whose bytes are the local file `path` (exactly `size` bytes) without copying
   * them (a hard link); false when this sink cannot here (another file system...): then use addFile.
   */
  linkFile?(name: string, size: number, path: string): Promise<boolean>;
  /** Make everything visible under the final name at once. */
  commit(): Promise<void>;
  /** Remove whatever was written. */
  abort(): Promise<void>;
}

/** A temp name beside `path`, so the final rename stays on one filesystem. */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${path.split('/').pop()}.tmp-${randomBytes(6).toString('hex')}`);
}

/** Writes into a temp directory beside `path` and renames it into place on commit. */
export class DirectorySink implements FileSink {
  readonly #path: string;
  readonly #temp: string;
  readonly #dirs = new Set<string>();

  constructor(path: string) {
    this.#path = path;
    this.#temp = tempNameFor(path);
  }

  async #target(name: string): Promise<string> {
    const target = join(this.#temp, name);
    const dir = dirname(target);
    if (!this.#dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#dirs.add(dir);
    }
    return target;
  }

  async addFile(name: string, _size: number, data: Uint8Array | Readable): Promise<void> {
    const target = await this.#target(name);
    if (data instanceof Uint8Array) await writeFile(target, data);
    else await pipeline(data, createWriteStream(target));
  }

  async linkFile(name: string, _size: number, path: string): Promise<boolean> {
    try {
      await link(path, await this.#target(name));
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (
        code === 'EXDEV' ||
        code === 'EPERM' ||
        code === 'EMLINK' ||
        code === 'ENOTSUP' ||
        code === 'EACCES'
      )
        return false;
      throw e;
    }
  }

  async commit(): Promise<void> {
    await mkdir(this.#temp, { recursive: true });
    await rm(this.#path, { recursive: true, force: true });
    await rename(this.#temp, this.#path);
  }

  async abort(): Promise<void> {
    await rm(this.#temp, { recursive: true, force: true });
  }
}

/** The tar header of a layout member: a regular file, 0644, root-owned, mtime 0 (deterministic archives). */
export function layoutMemberHeader(name: string, size: number): Uint8Array {
  return encodeTarHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size });
}

/** Writes a tar file (regular files only, fixed metadata) to a temp name, renamed on commit. */
export class TarSink implements FileSink {
  readonly #path: string;
  readonly #temp: string;
  #out?: import('node:fs/promises').FileHandle;

  constructor(path: string) {
    this.#path = path;
    this.#temp = tempNameFor(path);
  }

  async #handle() {
    if (!this.#out) {
      await mkdir(dirname(this.#path), { recursive: true });
      this.#out = await open(this.#temp, 'w');
    }
    return this.#out;
  }

  async addFile(name: string, size: number, data: Uint8Array | Readable): Promise<void> {
    const out = await this.#handle();
    await out.write(layoutMemberHeader(name, size));
    if (data instanceof Uint8Array) {
      await out.write(data);
    } else {
      for await (const chunk of data) await out.write(chunk as Buffer);
    }
    const pad = (512 - (size % 512)) % 512;
    if (pad) await out.write(Buffer.alloc(pad));
  }

  async commit(): Promise<void> {
    const out = await this.#handle();
    await out.write(Buffer.alloc(1024));
    await out.close();
    this.#out = undefined;
    await rename(this.#temp, this.#path);
  }

  async abort(): Promise<void> {
    await this.#out?.close().catch(() => {});
    this.#out = undefined;
    await rm(this.#temp, { force: true });
  }
}

/**
 * Writes the same tar as TarSink into `stream` instead of a file, so an archive can be piped to a
 * consumer (`docker load`, `podman load`) as it is produced, with no temporary file. Writes wait for
 * the consumer (back-pressure); `abort()` destroys the stream so the consumer sees a truncated archive.
 */
export class StreamSink implements FileSink {
  readonly stream = new PassThrough({ highWaterMark: 1024 * 1024 });

  async #write(chunk: Uint8Array): Promise<void> {
    const s = this.stream;
    if (s.destroyed) throw new Error('archive stream closed by its consumer');
    if (s.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        s.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        s.off('drain', onDrain);
        reject(new Error('archive stream closed by its consumer'));
      };
      s.once('drain', onDrain);
      s.once('close', onClose);
    });
  }

  async addFile(name: string, size: number, data: Uint8Array | Readable): Promise<void> {
    await this.#write(layoutMemberHeader(name, size));
    if (data instanceof Uint8Array) {
      await this.#write(data);
    } else {
      for await (const chunk of data) await this.#write(chunk as Buffer);
    }
    const pad = (512 - (size % 512)) % 512;
    if (pad) await this.#write(Buffer.alloc(pad));
  }

  async commit(): Promise<void> {
    await this.#write(Buffer.alloc(1024));
    this.stream.end();
  }

  async abort(): Promise<void> {
    this.stream.destroy();
  }
}
