// Helpers for this package's tests (not exported from index.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * Whether a command-line tool is on PATH. Under CI=true a missing tool is a failure, not a skip,
 * so tests gated with `it.skipIf(!toolAvailable(...))` cannot silently vanish in CI.
 */
export function toolAvailable(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (!found && process.env.CI === 'true') throw new Error(`required tool ${name} is missing (CI=true)`);
  return found;
}

/** A temp dir removed by the returned cleanup function. */
export function tempDir(prefix = 'layer-writer-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sha256File(path: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}

export function sha256Bytes(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Run a command and return stdout as a Buffer (throws with stderr on failure). */
export function run(cmd: string, args: string[], input?: Uint8Array): Buffer {
  return execFileSync(cmd, args, { input, maxBuffer: 1024 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** `tar -tv` lines of an uncompressed tar in memory, with numeric ids and UTC times. */
export function tarList(tar: Uint8Array): string[] {
  return run('tar', ['--numeric-owner', '--utc', '-tvf', '-'], tar)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** Entry names of an uncompressed tar, in archive order. */
export function tarNames(tar: Uint8Array): string[] {
  return run('tar', ['-tf', '-'], tar)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/**
 * Per-test cleanup for the calling test file: `defer(fn)` runs `fn` after the current test, and
 * `tmp()` makes a temp dir removed then.
 */
export function perTestCleanup(): { defer: (fn: () => void) => void; tmp: () => string } {
  const fns: Array<() => void> = [];
  afterEach(() => {
    for (const f of fns.splice(0)) f();
  });
  const defer = (fn: () => void) => {
    fns.push(fn);
  };
  return {
    defer,
    tmp: () => {
      const t = tempDir();
      defer(t.cleanup);
      return t.dir;
    },
  };
}
