import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { trackDir, untrackDir } from './cleanup.js';

export interface TempDir {
  /** Absolute path of the directory. */
  readonly path: string;
  /** Path of an entry inside the directory. */
  join(...parts: string[]): string;
  /** Removes the directory and everything in it; safe to call twice. */
  remove(): Promise<void>;
}

function wrap(path: string): TempDir {
  trackDir(path);
  const remove = async (): Promise<void> => {
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
    untrackDir(path);
  };
  return { path, join: (...parts) => join(path, ...parts), remove };
}

function safePrefix(prefix: string): string {
  return join(tmpdir(), `img-${prefix.replace(/[^\w.-]/g, '_')}`);
}

/**
 * Creates a fresh temp dir (under os.tmpdir(), name starting with `img-<prefix>`). The caller removes it
 * with remove(); whatever is left is removed when the test process exits.
 */
export async function tempDir(prefix = 'test-'): Promise<TempDir> {
  return wrap(await mkdtemp(safePrefix(prefix)));
}

/**
 * Creates a temp dir now and removes it in afterAll of the enclosing suite (or file). Call it at the top
 * of a test file or inside describe(), not inside a test.
 */
export function useTempDir(prefix = 'test-'): TempDir {
  const dir = wrap(mkdtempSync(safePrefix(prefix)));
  afterAll(() => dir.remove());
  return dir;
}
