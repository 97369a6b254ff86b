import { createHash } from 'node:crypto';
import { type ContainerdClient, grpc, hasCode, rpcError } from './client.js';

/** containerd's default snapshotter (also Docker's with the containerd image store). */
export const DEFAULT_SNAPSHOTTER = 'overlayfs';

/** The label on a config blob that keeps an unpacked snapshot chain alive (set by containerd's unpacker). */
export const gcSnapshotLabel = (snapshotter: string) => `containerd.io/gc.ref.snapshot.${snapshotter}`;

/** Chain IDs of a layer stack: chain(0) = diff_id(0), chain(n) = sha256(chain(n-1) + " " + diff_id(n)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out.at(-1);
    out.push(prev ? `sha256:${createHash('sha256').update(`${prev} ${diffId}`).digest('hex')}` : diffId);
  }
  return out;
}

/**
 * The deepest chain ID of `chain` that the snapshotter already holds as a committed snapshot, or
 * undefined. A snapshotter containerd does not run counts as holding nothing.
 */
export async function deepestSnapshot(
  client: ContainerdClient,
  snapshotter: string,
  chain: readonly string[],
): Promise<string | undefined> {
  for (let i = chain.length - 1; i >= 0; i--) {
    const key = chain[i]!;
    try {
      await client.call('snapshots', 'Stat', { snapshotter, key });
      return key;
    } catch (err) {
      if (hasCode(err, grpc.status.NOT_FOUND)) continue;
      if (hasCode(err, grpc.status.INVALID_ARGUMENT)) return undefined;
      throw rpcError(err, `stat snapshot ${key} (${snapshotter})`);
    }
  }
  return undefined;
}
