import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOnExit } from '@img/atomic-write';

const pending = new Map<string, () => void>();

/**
 * A scratch directory under the system temp dir (`$TMPDIR/<prefix>XXXXXX`) that is removed with
 * everything in it by `removeWorkDir`, and also when the process exits or is killed by SIGINT/SIGTERM
 * before that.
 */
export async function createWorkDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  pending.set(dir, removeOnExit(dir));
  return dir;
}

export async function removeWorkDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  pending.get(dir)?.();
  pending.delete(dir);
}
