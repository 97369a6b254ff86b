import { dirname } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { AtomicFile, makeDirectory } from '@img/atomic-write';
import { encodeTarHeader } from '@img/layer-writer/internal';

/** Where the files of a layout or archive go: a directory, or entries of a tar file. */
export interface FileSink {
  /** Add a regular file; `data` is bytes or a stream of exactly `size` bytes. */
  addFile(name: string, size: number, data: Uint8Array | Readable): Promise<void>;
  /**
   * Add a regular file whose bytes are the local file `path` (exactly `size` bytes) without copying
   * them (a hard link); false when this sink cannot here (another file system...): then use addFile.
   */
  linkFile?(name: string, size: number, path: string): Promise<boolean>;
  /** Make the result visible: rename an archive into place; write a layout's index.json last. */
  commit(): Promise<void>;
  /** Remove whatever this sink wrote; what was there before stays. */
  abort(): Promise<void>;
}

/** The tar header of a layout member: a regular file, 0644, root-owned, mtime 0 (deterministic archives). */
export function layoutMemberHeader(name: string, size: number): Uint8Array {
  return encodeTarHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size });
}

/** Writes a tar file (regular files only, fixed metadata) to a temp name, renamed on commit. */
export class TarSink implements FileSink {
  readonly #path: string;
  #file?: Promise<AtomicFile>;

  constructor(path: string) {
    this.#path = path;
  }

  #open(): Promise<AtomicFile> {
    this.#file ??= (async () => {
      await makeDirectory(dirname(this.#path));
      return await AtomicFile.open(this.#path);
    })();
    return this.#file;
  }

  async addFile(name: string, size: number, data: Uint8Array | Readable): Promise<void> {
    const out = await this.#open();
    await out.write(layoutMemberHeader(name, size));
    if (data instanceof Uint8Array) await out.write(data);
    else await out.writeStream(data);
    const pad = (512 - (size % 512)) % 512;
    if (pad) await out.write(Buffer.alloc(pad));
  }

  async commit(): Promise<void> {
    const out = await this.#open();
    await out.write(Buffer.alloc(1024));
    await out.commit();
  }

  async abort(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await (await file?.catch(() => undefined))?.abort();
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
