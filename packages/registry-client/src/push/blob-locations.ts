import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { normalizeRegistry } from '../reference.js';

/**
 * Where blobs were pushed before: lets a push into a new repository mount a blob the registry already
 * holds in another one instead of uploading it again (as Docker's push does with its layer metadata).
 * A wrong entry costs one refused mount (the upload then goes on in the session the registry opened).
 */
export interface BlobLocations {
  /** Repositories of `registry` known to hold `digest`, the most recent first. */
  lookup(registry: string, digest: string): Promise<readonly string[]>;
  /** Remember that `repository` of `registry` holds every blob of `digests`. */
  record(registry: string, repository: string, digests: readonly string[]): Promise<void>;
}

/** Environment variable naming img's cache directory (default $XDG_CACHE_HOME/img, else ~/.cache/img). */
export const CACHE_DIR_ENV = 'IMG_CACHE_DIR';
/** Repositories remembered per blob. */
export const MAX_REPOSITORIES_PER_BLOB = 4;
/** Blobs remembered per registry; the least recently recorded go first. */
export const MAX_BLOBS_PER_REGISTRY = 50_000;

/** img's cache directory for this environment. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[CACHE_DIR_ENV]) return env[CACHE_DIR_ENV];
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'img');
}

interface RegistryFile {
  version: 1;
  /** digest -> repositories, most recent first; key order is recording order (oldest first). */
  blobs: Record<string, string[]>;
}

/**
 * BlobLocations in one JSON file per registry under `dir` (`blob-locations/<registry>.json`), read
 * once per instance and replaced atomically. Best effort: an unreadable or corrupt file counts as
 * empty, and a failed write loses only the new entries.
 */
export class FileBlobLocations implements BlobLocations {
  readonly #dir: string;
  readonly #loaded = new Map<string, Promise<RegistryFile>>();

  constructor(cacheDir: string = defaultCacheDir()) {
    this.#dir = join(cacheDir, 'blob-locations');
  }

  async lookup(registry: string, digest: string): Promise<readonly string[]> {
    const file = await this.#load(normalizeRegistry(registry));
    return file.blobs[digest] ?? [];
  }

  async record(registry: string, repository: string, digests: readonly string[]): Promise<void> {
    const key = normalizeRegistry(registry);
    // Re-read: another img process may have recorded since this one loaded the file.
    this.#loaded.delete(key);
    const file = await this.#load(key);
    for (const digest of new Set(digests)) {
      const repos = [repository, ...(file.blobs[digest] ?? []).filter((r) => r !== repository)];
      delete file.blobs[digest];
      file.blobs[digest] = repos.slice(0, MAX_REPOSITORIES_PER_BLOB);
    }
    const keys = Object.keys(file.blobs);
    for (const old of keys.slice(0, Math.max(0, keys.length - MAX_BLOBS_PER_REGISTRY)))
      delete file.blobs[old];
    await this.#write(key, file).catch(() => {});
  }

  #path(registry: string): string {
    return join(this.#dir, `${encodeURIComponent(registry)}.json`);
  }

  #load(registry: string): Promise<RegistryFile> {
    let p = this.#loaded.get(registry);
    if (!p) {
      p = readFile(this.#path(registry), 'utf8').then(parseRegistryFile, () => emptyFile());
      this.#loaded.set(registry, p);
    }
    return p;
  }

  async #write(registry: string, file: RegistryFile): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const path = this.#path(registry);
    const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(temp, JSON.stringify(file));
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }
}

function emptyFile(): RegistryFile {
  return { version: 1, blobs: {} };
}

function parseRegistryFile(text: string): RegistryFile {
  try {
    const parsed = JSON.parse(text) as Partial<RegistryFile>;
    if (parsed.version !== 1 || typeof parsed.blobs !== 'object' || parsed.blobs === null) return emptyFile();
    const blobs: Record<string, string[]> = {};
    for (const [digest, repos] of Object.entries(parsed.blobs)) {
      if (Array.isArray(repos)) blobs[digest] = repos.filter((r): r is string => typeof r === 'string');
    }
    return { version: 1, blobs };
  } catch {
    return emptyFile();
  }
}
