import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { cleanupOnExit, makeDirectory, outputError, writeFileAtomic } from '@img/atomic-write';
import { asIndex, parseJson } from '@img/oci-spec';
import { LayoutError } from './errors.js';
import { mergeJsonMaps, mergeLayoutIndex } from './index-merge.js';
import { acquireLayoutLock, LAYOUT_LOCK_FILE, type LayoutLock } from './layout-lock.js';
import type { FileSink } from './sinks.js';
import { SOURCES_FILE } from './write-layout.js';

export interface DirectorySinkOptions {
  /**
   * Write into a directory that is neither empty nor an OCI layout, beside the files already there
   * (which are never removed or overwritten). Default false: such a directory is refused, so a typo
   * in `-o oci:DIR` cannot turn a source tree into a layout.
   */
  readonly force?: boolean;
  /** How long to wait for another writer of the same layout (ms); see DEFAULT_LOCK_TIMEOUT_MS. */
  readonly lockTimeoutMs?: number;
}

/** Files in a layout directory that img itself creates while writing (not the user's content). */
function isOwnFile(name: string): boolean {
  return (
    name === LAYOUT_LOCK_FILE ||
    name === `${LAYOUT_LOCK_FILE}.break` ||
    /^\..+\.tmp-\d+-[0-9a-f]+$/.test(name)
  );
}

type DirectoryState = 'absent' | 'empty' | 'layout' | 'other';

async function directoryState(dir: string): Promise<DirectoryState> {
  const st = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw outputError(err, dir, 'cannot open');
  });
  if (!st) return 'absent';
  if (!st.isDirectory()) throw new LayoutError('IMG_LAYOUT_NOT_A_LAYOUT', `${dir}: not a directory`);
  const names = (await readdir(dir)).filter((n) => !isOwnFile(n));
  if (names.includes('oci-layout')) return 'layout';
  return names.length === 0 ? 'empty' : 'other';
}

/**
 * Refuse a directory that holds something other than an OCI layout (unless `force`), before any
 * work is done: the check `DirectorySink` repeats under the layout lock.
 */
export async function checkLayoutDirectory(dir: string, options: DirectorySinkOptions = {}): Promise<void> {
  if ((await directoryState(dir)) === 'other' && !options.force) {
    throw new LayoutError(
      'IMG_LAYOUT_NOT_A_LAYOUT',
      `${dir}: not empty and not an OCI image layout (no oci-layout file); refusing to write into it (write to a new or empty directory, or pass --force to add the layout beside its files)`,
    );
  }
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw outputError(err, path, 'cannot read');
  }
}

async function collect(data: Uint8Array | Readable): Promise<Buffer> {
  if (data instanceof Uint8Array) return Buffer.from(data);
  const chunks: Buffer[] = [];
  for await (const chunk of data) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Writes an OCI layout directory in place, so several images can share it: blobs are added (one
 * already there with the right size is kept), `index.json` entries are merged (the same tag is
 * replaced, other entries kept), `img-sources.json` is merged, every file goes through a temp name
 * and a rename, and index.json is written last. The whole write holds the layout lock
 * (`.img.lock`), so concurrent writers take turns instead of losing each other's entries.
 *
 * A directory that does not exist is created; a non-empty one that is not a layout is refused unless
 * `force`. On failure or SIGINT/SIGTERM everything this sink added is removed again (the directory
 * if it made it; else the files it added), and nothing that was there before is touched.
 */
export class DirectorySink implements FileSink {
  readonly #dir: string;
  readonly #options: DirectorySinkOptions;
  #started?: Promise<void>;
  #lock?: LayoutLock;
  #forgetUndo?: () => void;
  /** The first directory `mkdir -p` made for the layout (the layout directory or a parent of it). */
  #madeFrom?: string;
  /** The layout directory is new: everything in it but the lock is ours. */
  #ownsDirectory = false;
  /** In an existing layout: the files and directories this sink added. */
  readonly #added: string[] = [];
  #index?: Buffer;
  #sources?: Buffer;

  constructor(dir: string, options: DirectorySinkOptions = {}) {
    this.#dir = dir;
    this.#options = options;
  }

  #start(): Promise<void> {
    this.#started ??= this.#open();
    return this.#started;
  }

  async #open(): Promise<void> {
    const dir = this.#dir;
    await checkLayoutDirectory(dir, this.#options);
    this.#madeFrom = await makeDirectory(dir);
    try {
      this.#lock = await acquireLayoutLock(
        dir,
        this.#options.lockTimeoutMs !== undefined ? { timeoutMs: this.#options.lockTimeoutMs } : {},
      );
    } catch (err) {
      this.#removeMadeDirectoriesSync();
      throw err;
    }
    this.#forgetUndo = cleanupOnExit(() => this.#undoSync());
    try {
      // Another writer may have filled the directory we made before we got the lock.
      this.#ownsDirectory = this.#madeFrom !== undefined && (await directoryState(dir)) === 'empty';
      await checkLayoutDirectory(dir, this.#options);
      const index = await readIfExists(join(dir, 'index.json'));
      if (index) asIndex(parseJson(index, `${dir}/index.json`), `${dir}/index.json`);
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Record `path` as added by this sink if it is new and not inside something already recorded. */
  #recordAdded(path: string): void {
    if (this.#ownsDirectory) return;
    if (this.#added.some((a) => path === a || path.startsWith(a + sep))) return;
    this.#added.push(path);
  }

  async addFile(name: string, size: number, data: Uint8Array | Readable): Promise<void> {
    await this.#start();
    if (name === 'index.json') {
      this.#index = await collect(data);
      return;
    }
    if (name === SOURCES_FILE) {
      this.#sources = await collect(data);
      return;
    }
    const target = join(this.#dir, name);
    const existing = await lstat(target).catch(() => undefined);
    // The layout's own header, or a blob that is already there (same name and size: the same bytes).
    const keep =
      existing?.isFile() && (name === 'oci-layout' || (name.startsWith('blobs/') && existing.size === size));
    if (keep) {
      if (!(data instanceof Uint8Array)) data.destroy();
      return;
    }
    const made = await makeDirectory(dirname(target));
    if (made !== undefined) this.#recordAdded(made);
    await writeFileAtomic(target, data);
    if (!existing) this.#recordAdded(target);
  }

  /** Merge index.json (and img-sources.json) into the layout, then release it. */
  async commit(): Promise<void> {
    await this.#start();
    try {
      if (this.#sources) await this.#merge(SOURCES_FILE, this.#sources, mergeJsonMaps);
      if (this.#index) await this.#merge('index.json', this.#index, mergeLayoutIndex);
    } catch (err) {
      await this.abort();
      throw err;
    }
    this.#ownsDirectory = false;
    this.#added.length = 0;
    this.#release();
  }

  async #merge(
    name: string,
    added: Buffer,
    merge: (existing: Uint8Array | undefined, added: Uint8Array, where: string) => Buffer,
  ): Promise<void> {
    const path = join(this.#dir, name);
    const existing = await readIfExists(path);
    await writeFileAtomic(path, merge(existing, added, path));
    if (!existing) this.#recordAdded(path);
  }

  /** Remove what this sink added and release the layout; what was there before stays. */
  async abort(): Promise<void> {
    if (!this.#started) return;
    await this.#started.catch(() => {});
    if (!this.#lock) return;
    // Synchronous on purpose: the same steps as on a signal, in the same order, with nothing between.
    this.#undoSync();
  }

  /**
   * Remove what was added, release the lock, then remove the directories `mkdir -p` made if they are
   * empty (a writer that took the lock meanwhile keeps the layout directory alive).
   */
  #undoSync(): void {
    const dir = this.#dir;
    if (this.#ownsDirectory) {
      const names = (() => {
        try {
          return readdirSync(dir);
        } catch {
          return [];
        }
      })();
      for (const name of names) {
        if (name !== LAYOUT_LOCK_FILE) rmSync(join(dir, name), { recursive: true, force: true });
      }
    }
    for (const path of this.#added.reverse()) rmSync(path, { recursive: true, force: true });
    this.#added.length = 0;
    const removeDirectories = this.#ownsDirectory;
    this.#ownsDirectory = false;
    this.#release();
    if (removeDirectories) this.#removeMadeDirectoriesSync();
  }

  /** rmdir the layout directory and its new parents, innermost first, while they are empty. */
  #removeMadeDirectoriesSync(): void {
    if (this.#madeFrom === undefined) return;
    const top = resolve(this.#madeFrom);
    this.#madeFrom = undefined;
    for (let d = resolve(this.#dir); ; d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        return;
      }
      if (d === top || relative(top, d).startsWith('..')) return;
    }
  }

  #release(): void {
    this.#forgetUndo?.();
    this.#forgetUndo = undefined;
    this.#lock?.releaseSync();
    this.#lock = undefined;
  }
}
