import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Descriptor, type Digest, isDigest, parseJson } from '@img/oci-spec';
import {
  formatReference,
  parseReference,
  type Reference,
  type RegistryClient,
  RegistryError,
} from '@img/registry-client';
import { CliError } from '../util/errors.js';
import { writeFileAtomic } from '../util/files.js';
import { currentDescriptor } from './remote-image.js';

/** Version of the lock file format. */
export const LOCKFILE_VERSION = 1;

/** What a lock records per base reference (as written in the spec, normalised). */
export interface LockedBase {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
}

/** How a base reference was resolved in this build. */
export interface ResolvedBase {
  /** The reference as the lock keys it (`registry/repo:tag`). */
  readonly reference: string;
  /** What the build used: the reference pinned to its digest. */
  readonly pinned: Reference;
  readonly digest: Digest;
  /** `locked` (from the lock), `pinned` (a digest in the spec), `resolved` (the tag, now). */
  readonly from: 'locked' | 'pinned' | 'resolved';
  /** The digest the tag names now when it is not the locked one (reported, not followed), or `deleted`. */
  readonly moved?: Digest | 'deleted';
  /** With --update-lock: the digest the lock held before. */
  readonly previous?: Digest;
}

export interface BaseLockOptions {
  /** Re-resolve every tag and rewrite the lock (`--update-lock`). */
  readonly update?: boolean;
  /** Fail instead of changing the lock (`--locked`, for CI). */
  readonly frozen?: boolean;
}

/** The lock file of a spec: `image.json` -> `image.lock.json`, beside it. */
export function lockPathFor(specPath: string): string {
  const name = basename(specPath).replace(/\.json$/i, '');
  return join(dirname(specPath), `${name}.lock.json`);
}

function lockEntry(v: unknown, where: string): LockedBase {
  const e = v as Partial<LockedBase> | null;
  if (
    !e ||
    typeof e !== 'object' ||
    !isDigest(e.digest) ||
    typeof e.mediaType !== 'string' ||
    !Number.isSafeInteger(e.size)
  ) {
    throw new CliError('IMG_CLI_INVALID_INPUT', `${where}: expected {"digest", "mediaType", "size"}`);
  }
  return { digest: e.digest, mediaType: e.mediaType, size: e.size! };
}

async function readLock(path: string): Promise<Map<string, LockedBase>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const doc = parseJson(bytes, path) as { lockfileVersion?: unknown; bases?: unknown } | null;
  if (!doc || typeof doc !== 'object' || doc.lockfileVersion !== LOCKFILE_VERSION) {
    throw new CliError('IMG_CLI_INVALID_INPUT', `${path}: lockfileVersion: expected ${LOCKFILE_VERSION}`);
  }
  const bases = doc.bases ?? {};
  if (typeof bases !== 'object' || Array.isArray(bases)) {
    throw new CliError('IMG_CLI_INVALID_INPUT', `${path}: bases: expected an object`);
  }
  return new Map(Object.entries(bases).map(([k, v]) => [k, lockEntry(v, `${path}: bases.${k}`)]));
}

/**
 * The base digests of one spec, like a package lock: a tag is resolved once and its digest recorded
 * in `image.lock.json` beside the spec; later builds use the recorded digest and report a tag that
 * has moved instead of following it; `update` re-resolves; `frozen` refuses any change.
 */
export class BaseLock {
  readonly path: string;
  readonly #before: Map<string, LockedBase>;
  readonly #after = new Map<string, LockedBase>();
  readonly #options: BaseLockOptions;

  private constructor(path: string, entries: Map<string, LockedBase>, options: BaseLockOptions) {
    this.path = path;
    this.#before = entries;
    this.#options = options;
  }

  static async open(specPath: string, options: BaseLockOptions = {}): Promise<BaseLock> {
    const path = lockPathFor(specPath);
    return new BaseLock(path, await readLock(path), options);
  }

  /** Resolve one base reference of the spec (`where` names its key path for errors). */
  async resolve(client: RegistryClient, text: string, where: string): Promise<ResolvedBase> {
    let ref: Reference;
    try {
      ref = parseReference(text);
    } catch (err) {
      throw new CliError('IMG_CLI_INVALID_SPEC', `${where}: ${(err as Error).message}`, { cause: err });
    }
    const key = formatReference(ref);
    const locked = this.#before.get(key);
    const pin = (d: Descriptor): Reference => ({ ...ref, digest: d.digest });
    if (ref.digest) {
      const d = locked?.digest === ref.digest ? locked : await currentDescriptor(client, ref);
      this.#record(key, d, where);
      return { reference: key, pinned: ref, digest: ref.digest, from: 'pinned' };
    }
    if (locked && !this.#options.update) {
      this.#after.set(key, locked);
      const now = await currentDescriptor(client, ref).catch((err: unknown) => {
        if (err instanceof RegistryError && err.code === 'IMG_REGISTRY_NOT_FOUND') return undefined;
        throw err;
      });
      const moved = now === undefined ? 'deleted' : now.digest !== locked.digest ? now.digest : undefined;
      return {
        reference: key,
        pinned: pin(locked),
        digest: locked.digest,
        from: 'locked',
        ...(moved ? { moved } : {}),
      };
    }
    const now = await currentDescriptor(client, ref);
    this.#record(key, now, where);
    return {
      reference: key,
      pinned: pin(now),
      digest: now.digest,
      from: 'resolved',
      ...(locked && locked.digest !== now.digest ? { previous: locked.digest } : {}),
    };
  }

  #record(key: string, d: Pick<Descriptor, 'digest' | 'mediaType' | 'size'>, where: string): void {
    const entry = { digest: d.digest, mediaType: d.mediaType, size: d.size };
    const before = this.#before.get(key);
    if (this.#options.frozen && before?.digest !== entry.digest) {
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `${where}: ${key} is ${before ? `locked at ${before.digest}, the build would use ${entry.digest}` : `not in ${this.path}`} (--locked: run img build --update-lock and commit the lock)`,
      );
    }
    this.#after.set(key, entry);
  }

  /** Whether the build changed what the lock records (entries added, updated or no longer used). */
  get changed(): boolean {
    if (this.#after.size !== this.#before.size) return true;
    for (const [k, v] of this.#after) if (this.#before.get(k)?.digest !== v.digest) return true;
    return false;
  }

  /** Write the lock (sorted keys, temp + rename) when it changed; true when written. */
  async save(): Promise<boolean> {
    if (!this.changed) return false;
    if (this.#options.frozen) {
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `${this.path}: out of date (--locked: run img build --update-lock)`,
      );
    }
    const bases = Object.fromEntries([...this.#after].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    await writeFileAtomic(
      this.path,
      `${JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, bases }, null, 2)}\n`,
    );
    return true;
  }
}
