import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every path under `dir` (sorted) with each file's content as text and `<dir>` for directories: compare
 * two snapshots to assert that a failed or interrupted command changed nothing.
 */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir, { recursive: true })).map(String).sort()) {
    out[name] = await readFile(join(dir, name), 'utf8').catch(() => '<dir>');
  }
  return out;
}
