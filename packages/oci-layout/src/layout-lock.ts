import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanupOnExit, outputError, removeOnExit, tempPathBeside } from '@img/atomic-write';
import { LayoutError } from './errors.js';

/** The lock file inside a layout directory while img writes it. */
export const LAYOUT_LOCK_FILE = '.img.lock';
/** How long a writer waits for another one to finish with the layout before giving up (30 s). */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
/** A lock or break guard whose content cannot be read is treated as abandoned after this long. */
const UNREADABLE_LOCK_AGE_MS = 10_000;

export interface LayoutLockOptions {
  /** How long to wait for another writer (ms). Default DEFAULT_LOCK_TIMEOUT_MS; 0: fail at once. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** A held layout lock; `release()` removes it (only if it is still ours). */
export interface LayoutLock {
  readonly path: string;
  release(): Promise<void>;
  /** The same, synchronously: for exit and signal handlers. */
  releaseSync(): void;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly created: string;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as LockOwner;
    return Number.isSafeInteger(v.pid) && typeof v.host === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock's owner is certainly gone: a process of this host that no longer runs. */
async function isAbandoned(path: string, text: string): Promise<boolean> {
  const owner = parseOwner(text);
  if (!owner) {
    const st = await stat(path).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs > UNREADABLE_LOCK_AGE_MS;
  }
  return owner.host === hostname() && owner.pid !== process.pid && !processAlive(owner.pid);
}

/**
 * Create `path` holding `content` only if it does not exist, atomically (no reader sees it empty):
 * write a temp file, hard-link it to `path`. Filesystems without hard links fall back to O_EXCL.
 */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = tempPathBeside(path);
  const forget = removeOnExit(temp);
  try {
    await writeFile(temp, content, { flag: 'wx' });
    await link(temp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    try {
      await writeFile(path, content, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } finally {
    await rm(temp, { force: true });
    forget();
  }
}

/**
 * Remove an abandoned lock whose content is still `stale`. A guard file makes this a critical
 * section: two writers that both saw the same dead owner cannot both remove it, so neither removes
 * the fresh lock the other has just taken.
 */
async function breakAbandonedLock(path: string, stale: string, mine: string): Promise<boolean> {
  const guard = `${path}.break`;
  if (!(await createExclusive(guard, mine))) {
    const text = await readFile(guard, 'utf8').catch(() => undefined);
    if (text !== undefined && (await isAbandoned(guard, text))) await removeIfUnchanged(guard, text);
    return false;
  }
  const forget = removeOnExit(guard);
  try {
    await removeIfUnchanged(path, stale);
    return true;
  } finally {
    await rm(guard, { force: true });
    forget();
  }
}

async function removeIfUnchanged(path: string, expected: string): Promise<void> {
  const now = await readFile(path, 'utf8').catch(() => undefined);
  if (now === expected) await rm(path, { force: true });
}

function describeOwner(text: string): string {
  const owner = parseOwner(text);
  if (!owner) return 'an unknown writer';
  const where = owner.host === hostname() ? '' : ` on ${owner.host}`;
  return `img process ${owner.pid}${where} since ${owner.created}`;
}

/**
 * Take the lock of the layout directory `dir` (which must exist): wait while another live writer
 * holds it (up to `timeoutMs`), take over the lock of a dead process of this host, and fail with a
 * one-line IMG_LAYOUT_LOCKED error naming the folder otherwise. The lock is removed on release and
 * when the process exits or is killed by SIGINT/SIGTERM.
 */
export async function acquireLayoutLock(dir: string, options: LayoutLockOptions = {}): Promise<LayoutLock> {
  const path = join(dir, LAYOUT_LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), created: new Date().toISOString() });
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    let created: boolean;
    try {
      created = await createExclusive(path, mine);
    } catch (err) {
      throw outputError(err, dir, 'cannot lock');
    }
    if (created) {
      const releaseSync = () => {
        try {
          if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      const forget = cleanupOnExit(releaseSync);
      return {
        path,
        release: async () => {
          await removeIfUnchanged(path, mine);
          forget();
        },
        releaseSync: () => {
          releaseSync();
          forget();
        },
      };
    }
    const holder = await readFile(path, 'utf8').catch(() => undefined);
    if (holder === undefined) continue; // released in the meantime
    if ((await isAbandoned(path, holder)) && (await breakAbandonedLock(path, holder, mine))) continue;
    if (Date.now() >= deadline) {
      throw new LayoutError(
        'IMG_LAYOUT_LOCKED',
        `${dir}: layout is being written by ${describeOwner(holder)}; try again when it is done (or remove ${path} if no img process is writing it)`,
      );
    }
    await sleep(
      Math.min(25 * 2 ** attempt, 500),
      undefined,
      options.signal ? { signal: options.signal } : {},
    );
  }
}
