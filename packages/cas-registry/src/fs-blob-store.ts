import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { addAbortSignal, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { renameDurably, syncDirectory } from './atomic-file.js';
import type {
  BlobStat,
  FileAdoptingBlobStore,
  ListableBlobStore,
  OpenBlobOptions,
  StoredBlob,
  WriteBlobOptions,
} from './blob-store.js';
import { type BlobDigest, createDigestVerifier, DIGEST_ALGORITHMS, parseBlobDigest } from './digests.js';
import { blobNotFound, CasRegistryError } from './errors.js';

const TEMP_DIR = '_tmp';
const READ_CHUNK = 1024 * 1024;
/** Temp files older than this at start-up belong to a crashed process and are removed. */
export const STALE_TEMP_MS = 60 * 60 * 1000;

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/**
 * Blobs as files under `root`: `<algorithm>/<first two hex>/<hex>`. Writes go to `_tmp/` and are renamed
 * into place after the digest was verified and the file fsynced, so a reader never sees partial content.
 */
export class FileBlobStore implements FileAdoptingBlobStore, ListableBlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** Creates the directories and removes temp files a crashed process left behind. */
  async prepare(): Promise<void> {
    const temp = join(this.root, TEMP_DIR);
    await mkdir(temp, { recursive: true });
    const now = Date.now();
    for (const name of await readdir(temp)) {
      const path = join(temp, name);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true, recursive: true });
    }
  }

  /** The file holding `digest` (which may not exist). */
  pathOf(digest: BlobDigest): string {
    return join(this.root, digest.algorithm, digest.hex.slice(0, 2), digest.hex);
  }

  async stat(digest: BlobDigest): Promise<BlobStat | undefined> {
    const info = await stat(this.pathOf(digest)).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    return info?.isFile() ? { size: info.size } : undefined;
  }

  async open(digest: BlobDigest, options: OpenBlobOptions = {}): Promise<Readable> {
    const handle = await open(this.pathOf(digest), 'r').catch((err) => {
      if (isNotFound(err)) throw blobNotFound(digest.value, this.root);
      throw err;
    });
    try {
      const { size } = await handle.stat();
      const offset = options.offset ?? 0;
      const length = options.length ?? size - offset;
      if (offset < 0 || length < 0 || offset + length > size) {
        throw new CasRegistryError(
          'IMG_CASREG_SIZE_MISMATCH',
          `${digest.value}: range ${offset}+${length} is outside the ${size} stored bytes`,
        );
      }
      if (length === 0) {
        // createReadStream cannot express an empty range (its end is inclusive).
        await handle.close();
        return Readable.from([]);
      }
      // 1 MiB reads: about 40 % less CPU per GiB served than the default 64 KiB (bench/registry).
      const stream = handle.createReadStream({
        start: offset,
        end: offset + length - 1,
        highWaterMark: READ_CHUNK,
      });
      return options.signal ? addAbortSignal(options.signal, stream) : stream;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async write(digest: BlobDigest, body: Readable, options: WriteBlobOptions = {}): Promise<BlobStat> {
    const verifier = createDigestVerifier(digest, options.size);
    const signal = options.signal ? { signal: options.signal } : {};
    const final = this.pathOf(digest);
    const existing = await this.stat(digest);
    if (existing) {
      // Already stored: still check the bytes the caller claims are this blob, but keep the file.
      await pipeline(body, verifier, new Writable({ write: (_c, _e, cb) => cb() }), signal);
      await this.touch(final);
      return existing;
    }
    const temp = join(this.root, TEMP_DIR, randomBytes(12).toString('hex'));
    try {
      await mkdir(dirname(temp), { recursive: true });
      await pipeline(body, verifier, createWriteStream(temp, { flush: true, mode: 0o644 }), signal);
      await mkdir(dirname(final), { recursive: true });
      await renameDurably(temp, final);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { size: (await stat(final)).size };
  }

  async adopt(digest: BlobDigest, path: string, size: number): Promise<BlobStat> {
    const final = this.pathOf(digest);
    if (await this.stat(digest)) {
      await rm(path, { force: true });
      await this.touch(final);
      return { size };
    }
    const handle = await open(path, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await mkdir(dirname(final), { recursive: true });
    try {
      await renameDurably(path, final);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      // Uploads on another filesystem: copy (verifying again), then drop the upload file.
      await this.write(digest, createReadStream(path), { size });
      await rm(path, { force: true });
    }
    return { size };
  }

  async delete(digest: BlobDigest): Promise<boolean> {
    const path = this.pathOf(digest);
    if (!(await this.stat(digest))) return false;
    await rm(path, { force: true });
    await syncDirectory(dirname(path)).catch(() => {});
    return true;
  }

  async *list(): AsyncIterable<StoredBlob> {
    for (const algorithm of Object.keys(DIGEST_ALGORITHMS)) {
      const algDir = join(this.root, algorithm);
      const prefixes = await readdir(algDir).catch(() => [] as string[]);
      for (const prefix of prefixes.sort()) {
        const names = await readdir(join(algDir, prefix)).catch(() => [] as string[]);
        for (const name of names.sort()) {
          const digest = parseBlobDigest(`${algorithm}:${name}`);
          if (!digest || digest.hex.slice(0, 2) !== prefix) continue;
          const info = await stat(join(algDir, prefix, name)).catch(() => undefined);
          if (info?.isFile()) yield { digest, size: info.size, modifiedMs: info.mtimeMs };
        }
      }
    }
  }

  /** Marks a blob as freshly written, so garbage collection counts its age from now. */
  private async touch(path: string): Promise<void> {
    const now = new Date();
    await utimes(path, now, now).catch(() => {});
  }
}
